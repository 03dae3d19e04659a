# Scans a guest's console log for kernel reports: scripts/vm-run's verdict,
# run by scripts/kernel-reports (see there for the output).
#
# Everything that looks like a kernel report (WARNING, BUG, Oops, KASAN,
# KCSAN, lockdep, kmemleak, an IOMMU fault ...) is one, with two kinds of
# exception: a WARNING of mdlpool's own between the kmsg lines
# "mdlpool-selftest: expect-warn begin" and "... end" (a test that provokes
# it), and the kernel's own known reports below, each matched narrowly, by
# its call trace or accesses as well as its first line, and counted apart.
# The cases in scripts/testdata/kernel-reports/ pin down what each rule
# takes and what it leaves.
#
# Variables: iommu=1 for a guest with an IOMMU (vm-run --iommu).
# Known and not ours: 6.12's deadline server (new in 6.12)
# gets its bandwidth accounting wrong when CPUs go offline and online, as our
# hotplug tests make them, and warns in kernel/sched/deadline.c; it does so
# under the runqueue lock, so on a lockdep kernel the console lock taken to
# print it adds a "possible circular locking dependency" between console_owner
# and &rq->__lock. Turning the server off (fair_server/cpu*/runtime = 0)
# warns the same way. The same server is also still counted on a dying
# CPU's runqueue when sched_cpu_dying() checks that only the CPU's stopper
# is left ("Dying CPU not properly vacated!", kernel/sched/core.c): it stops
# the server only after the check. Its dump of the queued tasks then lists
# the stopper (migration/N) alone under a total one higher; a task of any
# other name listed there is reported. On a 6.12 kernel those are counted
# apart, and the lockdep report only if such a warning came with it.
#
# A second one is PREEMPT_RT's (6.1-rt and 6.12-rt): when a CPU goes offline
# or comes back while a forced-threaded interrupt handler runs with bottom
# halves off (on RT: migration off), the thread's allowed CPUs change
# under it without a migration request, and migrate_enable() at the end of
# the handler warns in affine_move_task() ("WARN_ON_ONCE(!pending)",
# kernel/sched/core.c). Seen for virtio-net's interrupt thread in
# mdlpool_nic.sh's hotplug test, 1 guest in 3 on 6.1-rt and 2 in 3 on
# 6.12-rt. Counted apart only on a PREEMPT_RT kernel, for an irq/ thread,
# with migrate_enable() and irq_forced_thread_fn() in the call trace;
# anything else is reported.
#
# The KCSAN and dma-debug reports known to be the kernel's own are
# described where they are matched, below.
function strip(s) { sub(/^\[ *[0-9]+\.[0-9]+\] /, "", s); return s }
function report(l) { print "vm-run: kernel report: " l; reports++ }
# A pending circular-locking report is known if its two locks are the
# console owner wanted while holding a runqueue lock.
function settle() {
    if (pending == "") return
    if (saw_console && saw_rq) known_lockdep++
    else report(pending)
    pending = ""
}
# The dying-CPU warning is known once its task dump shows nothing but
# the stopper besides the one uncounted entry, the deadline server.
function settle_dying() {
    if (!dying_state) return
    if (dying_state == 2 && others == 0 && total == listed + 1) known_dying++
    else report(dying)
    dying_state = 0
}
# The RT warning is known once its trace shows an interrupt thread
# enabling migration at the end of a forced-threaded handler.
function settle_affine() {
    if (!aff_state) return
    if (aff_irq && aff_me && aff_ft) known_rt++
    else report(affine)
    aff_state = 0
}
# The dma-debug report is known once its trace shows page_pool syncing
# the mapping it has just made.
function settle_dma() {
    if (!dma_state) return
    if (dma_state == 3 && dma_warn != "") known_dma++
    else report(dma_warn != "" ? dma_warn : dma)
    dma_state = 0
}
# A KCSAN report is ours if any frame of any access it names is in one
# of this tree's modules; otherwise it is the kernel's own.
function settle_kcsan() {
    if (!kc_state) return
    if (kc_ours) report(kc)
    else { known_kcsan++; print "vm-run: the kernel's own KCSAN report (no frame of ours): " strip(kc) }
    kc_state = 0
}
/Linux version 6\.12\./ { k612 = 1 }
/Linux version .* PREEMPT_RT / { rt = 1 }
aff_state {
    l = strip($0)
    if (l ~ /^CPU: [0-9]+ (UID: [0-9]+ )?PID: [0-9]+ Comm: irq\//) aff_irq = 1
    if (l ~ /^ *(\? )?migrate_enable\+/) aff_me = 1
    if (l ~ /^ *(\? )?irq_forced_thread_fn\+/) aff_ft = 1
    if (l ~ /^---\[ end trace/ || ++aff_lines > 60) settle_affine()
}
# KCSAN (the 6.12 debug kernel) watches the whole kernel, and finds races
# there that have nothing to do with mdlpool, one new kind every few
# runs: virtio_ring reading ring entries QEMU writes as the device ("race
# at unknown origin" in vring_interrupt(), virtqueue_get_buf_ctx() ...),
# virtio-net's callback flag, fs/select.c's pollwake() flag, pfifo_fast's
# ptr_ring slots, posix-cpu-timers reading an exiting task's exit_state
# while its parent reaps it. What the tests are for is a race in code of
# ours: a frame of one of this tree's modules ([mdlpool], [nt_compat],
# [mdlnic], [mdlpool_test] ...) in the stack of either access. KCSAN's
# stacks are exact (no "? " guesses), and every path into a race of ours
# has our frame on it: our function, a callback of ours run by a timer,
# workqueue or NAPI, or kernel code we called. Such a report fails the
# run; one with no frame of ours is counted apart, its first line printed.
# A report ends at "Reported by"; the bound is for a console cut short,
# and leaves room for two stacks of KCSAN's most, 64 frames each
# (NUM_STACK_ENTRIES, kernel/kcsan/report.c).
kc_state {
    if ($0 ~ /\[(mdlpool[a-z0-9_]*|nt_compat|mdlnic)\]/) kc_ours = 1
    if (strip($0) ~ /^Reported by Kernel Concurrency Sanitizer/ || ++kc_lines > 200) settle_kcsan()
}
strip($0) ~ /^BUG: KCSAN: / {
    settle_kcsan(); kc = $0; kc_state = 1; kc_ours = kc_lines = 0; next
}
# dma-debug, on an --iommu guest: dma_unmap_page_attrs() lets the IOMMU
# driver free the IOVA (at once in strict mode) before it drops its own
# entry for it (debug_dma_unmap_page(), kernel/dma/mapping.c). A page
# mapped in between, on another CPU or by a softirq on this one, can get
# that IOVA; dma-debug then holds two entries for one address, and a
# sync that fits neither exactly finds none (__hash_bucket_find(),
# kernel/dma/debug.c) and says "tries to sync DMA memory it has not
# allocated". page_pool_dma_map() syncs a mapping it made a moment
# before, whose entry exists: there the report can only be that window.
# Counted apart there only; anywhere else it is reported.
iommu && strip($0) ~ /^DMA-API: .*: device driver tries to sync DMA memory it has not allocated / {
    settle_dma(); dma = $0; dma_warn = ""; dma_state = 1; dma_lines = 0; next
}
dma_state {
    l = strip($0)
    if (dma_warn == "" && l ~ /^WARNING: CPU: [0-9]+ PID: [0-9]+ at kernel\/dma\/debug\.c:[0-9]+ check_sync\+/) {
        dma_warn = $0; next
    }
    # The frames that are not guesses ("? "): the dma-debug hook, the
    # sync helpers, then page_pool_dma_map().
    if (l ~ /^ *[A-Za-z_][A-Za-z0-9_.]*\+0x[0-9a-f]+\/0x[0-9a-f]+/) {
        if (dma_state == 1 && l ~ /^ *debug_dma_sync_single_for_device\+/) dma_state = 2
        else if (dma_state == 2 && l ~ /^ *page_pool_dma_map\+/) dma_state = 3
        else if (dma_state == 2 && l !~ /^ *(__)?(dma_sync_single|page_pool_dma_sync)[a-z_]*\+/) dma_state = 4
    }
    if (l ~ /^---\[ end trace/ || ++dma_lines > 80) settle_dma()
}
pending != "" {
    if (index($0, "(console_owner)")) saw_console = 1
    if (index($0, "(&rq->__lock)")) saw_rq = 1
    if (/the existing dependency chain/ || ++pending_lines > 12) settle()
}
dying_state == 2 {
    if (strip($0) ~ /^\tpid: [0-9]+, name: /) {
        listed++
        if (strip($0) !~ /, name: migration\/[0-9]+$/) others++
        next
    }
    settle_dying()
}
dying_state == 1 && strip($0) ~ /^CPU[0-9]+ enqueued tasks \([0-9]+ total\):$/ {
    total = strip($0); sub(/^.*\(/, "", total); total += 0
    listed = others = 0; dying_state = 2; next
}
k612 && strip($0) ~ /^WARNING: CPU: [0-9]+ PID: [0-9]+ at kernel\/sched\/deadline\.c:/ { known_dl++; next }
rt && strip($0) ~ /^WARNING: CPU: [0-9]+ PID: [0-9]+ at kernel\/sched\/core\.c:[0-9]+ affine_move_task\+/ {
    settle_affine(); affine = $0; aff_state = 1; aff_lines = aff_irq = aff_me = aff_ft = 0; next
}
k612 && strip($0) ~ /^WARNING: CPU: [0-9]+ PID: [0-9]+ at kernel\/sched\/core\.c:[0-9]+ sched_cpu_dying\+/ {
    settle_dying(); dying = $0; dying_state = 1; next
}
k612 && /WARNING: possible circular locking dependency detected/ {
    settle(); pending = $0; pending_lines = 0; saw_console = saw_rq = 0; next
}
/mdlpool-selftest: expect-warn begin/ { expecting = 1; next }
/mdlpool-selftest: expect-warn end/   { expecting = 0; next }
# Between these a test makes slab allocations fail on purpose (failslab).
# One may be kmemleak's own record of an area to scan (vmap() asks for
# one); kmemleak then scans the whole object instead, which can hide a
# leak but never report one, and says so once. Counted with the expected
# warnings there; anywhere else it is reported.
/mdlpool-selftest: failslab begin/ { failslab = 1; next }
/mdlpool-selftest: failslab end/   { failslab = 0; next }
failslab && strip($0) == "kmemleak: Cannot allocate a scan area, scanning the full object" { ignored++; next }
/VMRUN-END rc=[0-9]+/ {
    rc = substr($0, index($0, "VMRUN-END rc=") + 13) + 0; next
}
# kmemleak announces itself at boot; those two lines are not reports.
/kmemleak: (Kernel memory leak detector initialized|Automatic memory scanning thread (started|ended))/ { next }
/WARNING:|BUG:|Oops|KASAN|UBSAN|kmemleak|unreferenced object|kernel BUG at|possible circular locking|possible recursive locking|inconsistent lock state|suspicious RCU usage|INFO: lockdep|general protection fault|Kernel panic|sleeping function called from invalid context|scheduling while atomic/ {
    if (expecting && strip($0) ~ /^WARNING:/ && index($0, "[mdlpool]")) { ignored++; next }
    report($0)
}
# The Intel IOMMU (--iommu), drivers/iommu/intel/dmar.c, 6.1 and 6.12:
# "DMAR: DRHD: handling fault status reg N" heads a batch of faults,
# each "DMAR: [DMA Read|DMA Write NO_PASID|PASID N] Request device
# [bb:dd.f] fault addr A [fault reason R] ..." or "DMAR: [INTR-REMAP]
# Request device ... fault index ..." (an interrupt the remapping
# table refused); "DMAR: VT-d detected Invalidation Queue Error|Time-out
# Error|Completion Error" is an invalidation the IOMMU did not complete.
# QEMU says "vtd_iommu_translate: detected translation failure" for
# the first DMA it refused, whatever the guest made of the fault.
# Matched in full: a looser "iommu.*fault" also matches the boot line
# "iommu: Default domain type".
/DMAR: (DRHD: handling fault|\[(DMA Read|DMA Write|INTR-REMAP)|VT-d detected Invalidation)|vtd_iommu_translate: detected translation failure/ { report($0) }
END {
    settle()
    settle_dying()
    settle_affine()
    settle_kcsan()
    settle_dma()
    # Without one of those warnings the lockdep report is not the known one.
    if (!known_dl && !known_dying && known_lockdep) {
        report("(" known_lockdep " console_owner/rq lock report(s) without a deadline-server warning)")
        known_lockdep = 0
    }
    print (rc == "" ? "-" : rc), reports + 0, ignored + 0, known_dl + known_dying + known_lockdep, known_kcsan + 0, known_rt + 0, known_dma + 0
}
