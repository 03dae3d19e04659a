// SPDX-License-Identifier: GPL-2.0
/*
 * mdlnic_pktcheck: count the pktgen frames that reach one interface and
 * check each one, for mdlpool_nic.sh.
 *
 *   mdlnic_pktcheck IFNAME COUNT SECONDS
 *
 * Reads frames with an AF_PACKET socket until COUNT frames of pktgen's have
 * arrived or SECONDS passed without one.  A frame of pktgen's is IPv4/UDP
 * to port 9 with pktgen's magic after the UDP header.  Each must have a
 * good IP header checksum, a good UDP checksum (pktgen's UDPCSUM flag),
 * zeros after pktgen's header (what pktgen fills its payload with), and a
 * sequence number from 1 to COUNT (pktgen counts from 1) not seen before.  Prints one line:
 *
 *   received=N corrupt=N duplicate=N out_of_range=N socket_drops=N
 *
 * and exits 0 if nothing was corrupt, duplicated, out of range or dropped
 * by the socket, 1 otherwise, 2 on a usage or setup error.  Losses are the
 * caller's to weigh against the devices' counters.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_packet.h>
#include <linux/types.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <netinet/ip.h>
#include <netinet/udp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define PKTGEN_MAGIC	0xbe9be955u
#define PKTGEN_PORT	9

struct pktgen_hdr {
	__u32 magic;
	__u32 seq;
	__u32 tv_sec;
	__u32 tv_usec;
};

static __u32 csum_add(__u32 sum, const void *data, size_t len)
{
	const __u8 *p = data;

	while (len > 1) {
		sum += (__u32)p[0] << 8 | p[1];
		p += 2;
		len -= 2;
	}
	if (len)
		sum += (__u32)p[0] << 8;
	return sum;
}

static __u16 csum_fold(__u32 sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (__u16)~sum;
}

/* The UDP checksum over the pseudo-header: 0 when the datagram is intact. */
static __u16 udp_check(const struct iphdr *ip, const __u8 *udp, size_t len)
{
	__u32 sum = 0;

	sum = csum_add(sum, &ip->saddr, 4);
	sum = csum_add(sum, &ip->daddr, 4);
	sum += IPPROTO_UDP + len;
	sum = csum_add(sum, udp, len);
	return csum_fold(sum);
}

enum verdict { NOT_OURS, GOOD, CORRUPT };

static enum verdict check_frame(const __u8 *f, size_t len, __u32 *seq)
{
	const struct ether_header *eth = (const void *)f;
	const struct iphdr *ip = (const void *)(f + sizeof(*eth));
	const struct udphdr *udp;
	const struct pktgen_hdr *pg;
	size_t ihl, ulen, i;

	if (len < sizeof(*eth) + sizeof(*ip) ||
	    eth->ether_type != htons(ETHERTYPE_IP) ||
	    ip->version != 4 || ip->protocol != IPPROTO_UDP)
		return NOT_OURS;
	ihl = ip->ihl * 4u;
	udp = (const void *)((const __u8 *)ip + ihl);
	if (len < sizeof(*eth) + ihl + sizeof(*udp) + sizeof(*pg) ||
	    udp->uh_dport != htons(PKTGEN_PORT))
		return NOT_OURS;
	pg = (const void *)(udp + 1);
	if (pg->magic != htonl(PKTGEN_MAGIC))
		return CORRUPT;
	if (csum_fold(csum_add(0, ip, ihl)) != 0)
		return CORRUPT;
	ulen = ntohs(udp->uh_ulen);
	if (ulen < sizeof(*udp) + sizeof(*pg) ||
	    sizeof(*eth) + ihl + ulen > len ||
	    ntohs(ip->tot_len) != ihl + ulen)
		return CORRUPT;
	if (udp->uh_sum && udp_check(ip, (const __u8 *)udp, ulen) != 0)
		return CORRUPT;
	for (i = sizeof(*udp) + sizeof(*pg); i < ulen; i++)
		if (((const __u8 *)udp)[i])
			return CORRUPT;
	*seq = ntohl(pg->seq);
	return GOOD;
}

int main(int argc, char **argv)
{
	unsigned long count, received = 0, corrupt = 0, dup = 0, range = 0;
	struct sockaddr_ll sll = { .sll_family = AF_PACKET };
	struct tpacket_stats st;
	socklen_t stlen = sizeof(st);
	int fd, secs, rcvbuf = 64 << 20;
	static __u8 frame[65536];
	unsigned char *seen;

	if (argc != 4) {
		fprintf(stderr, "usage: %s IFNAME COUNT SECONDS\n", argv[0]);
		return 2;
	}
	count = strtoul(argv[2], NULL, 0);
	secs = atoi(argv[3]);
	seen = calloc(count + 1, 1);
	fd = socket(AF_PACKET, SOCK_RAW, htons(ETH_P_ALL));
	if (!seen || fd < 0) {
		perror("mdlnic_pktcheck: socket");
		return 2;
	}
	/* Frames that overflow the socket would look like the NIC's losses. */
	setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf));
	sll.sll_protocol = htons(ETH_P_ALL);
	sll.sll_ifindex = if_nametoindex(argv[1]);
	if (!sll.sll_ifindex || bind(fd, (void *)&sll, sizeof(sll))) {
		perror("mdlnic_pktcheck: bind");
		return 2;
	}
	/* Ready: the caller waits for this line before starting pktgen. */
	printf("listening on %s\n", argv[1]);
	fflush(stdout);
	while (received < count) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		struct sockaddr_ll from;
		socklen_t fromlen = sizeof(from);
		__u32 seq;
		ssize_t n;

		if (poll(&pfd, 1, secs * 1000) <= 0)
			break;
		n = recvfrom(fd, frame, sizeof(frame), 0, (void *)&from,
			     &fromlen);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			perror("mdlnic_pktcheck: recvfrom");
			return 2;
		}
		/* Only what arrived, not what this host sent. */
		if (from.sll_pkttype == PACKET_OUTGOING)
			continue;
		switch (check_frame(frame, n, &seq)) {
		case NOT_OURS:
			continue;
		case CORRUPT:
			corrupt++;
			break;
		case GOOD:
			if (!seq || seq > count)
				range++;
			else if (seen[seq]++)
				dup++;
			break;
		}
		received++;
	}
	if (getsockopt(fd, SOL_PACKET, PACKET_STATISTICS, &st, &stlen))
		st.tp_drops = 0;
	printf("received=%lu corrupt=%lu duplicate=%lu out_of_range=%lu socket_drops=%u\n",
	       received, corrupt, dup, range, st.tp_drops);
	return corrupt || dup || range || st.tp_drops;
}
