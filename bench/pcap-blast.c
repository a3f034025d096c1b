/*
 * pcap-blast: replays a classic pcap (Ethernet) onto an interface as fast as asked, for
 * bench/live-rate.sh (a benchmark tool, not part of the sensor). tcpreplay sends one frame per
 * sendto(2) and, on this project's 2-core VM, tops out at 130,000-270,000 frames/s next to two
 * captures; this sends bursts with one sendmmsg(2) each and bypasses the qdisc
 * (PACKET_QDISC_BYPASS, packet(7)), so the sender's core is left to the kernel's receive path.
 *
 * Usage: pcap-blast -i IFACE [-p PPS] [-b BURST] [-l LOOPS] FILE.pcap
 *   -p  frames per second (0, the default: as fast as possible)
 *   -b  frames per sendmmsg (default 32)
 *   -l  times to replay the file (default 1)
 * Prints, as tcpreplay does (bench/live-rate.sh reads these two lines):
 *   Actual: N packets (B bytes) sent in S seconds
 *   Rated: X Bps, Y Mbps, Z pps
 * Timestamps in the file are ignored; frames keep their order. Only for test networks: the caller
 * rewrites addresses into 127.0.0.0/8 and sends into a veth of its own namespace.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

struct frame { const unsigned char *data; uint32_t len; };

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

static uint32_t u32(const unsigned char *p, int swapped)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return swapped ? __builtin_bswap32(v) : v;
}

int main(int argc, char **argv)
{
    const char *iface = NULL;
    double pps = 0;
    int burst = 32, loops = 1, opt;
    while ((opt = getopt(argc, argv, "i:p:b:l:")) != -1) {
        switch (opt) {
        case 'i': iface = optarg; break;
        case 'p': pps = atof(optarg); break;
        case 'b': burst = atoi(optarg); break;
        case 'l': loops = atoi(optarg); break;
        default: goto usage;
        }
    }
    if (!iface || optind != argc - 1 || burst < 1 || burst > 1024 || loops < 1 || pps < 0) {
usage:
        fprintf(stderr, "usage: pcap-blast -i IFACE [-p PPS] [-b BURST] [-l LOOPS] FILE.pcap\n");
        return 2;
    }

    /* The whole file in memory: reading must not pace the sending. */
    FILE *f = fopen(argv[optind], "rb");
    if (!f) { perror(argv[optind]); return 1; }
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *file = malloc(size > 0 ? (size_t)size : 1);
    if (!file || size < 24 || fread(file, 1, (size_t)size, f) != (size_t)size) {
        fprintf(stderr, "%s: cannot read a pcap file\n", argv[optind]);
        return 1;
    }
    fclose(f);
    uint32_t magic;
    memcpy(&magic, file, 4);
    int swapped;
    if (magic == 0xa1b2c3d4 || magic == 0xa1b23c4d) swapped = 0;
    else if (magic == 0xd4c3b2a1 || magic == 0x4d3cb2a1) swapped = 1;
    else { fprintf(stderr, "%s: not a classic pcap file\n", argv[optind]); return 1; }
    if (u32(file + 20, swapped) != 1) { fprintf(stderr, "%s: not Ethernet (link type 1)\n", argv[optind]); return 1; }

    size_t count = 0, cap = 1 << 16;
    struct frame *frames = malloc(cap * sizeof *frames);
    for (long at = 24; at + 16 <= size;) {
        uint32_t caplen = u32(file + at + 8, swapped);
        if (caplen > 262144 || at + 16 + (long)caplen > size) break; /* truncated or damaged: stop there */
        if (count == cap) frames = realloc(frames, (cap *= 2) * sizeof *frames);
        frames[count].data = file + at + 16;
        frames[count].len = caplen;
        count++;
        at += 16 + caplen;
    }
    if (count == 0) { fprintf(stderr, "%s: no frames\n", argv[optind]); return 1; }

    int fd = socket(AF_PACKET, SOCK_RAW, 0); /* protocol 0: send only, receive nothing */
    if (fd < 0) { perror("socket(AF_PACKET)"); return 1; }
    struct sockaddr_ll addr = { .sll_family = AF_PACKET, .sll_ifindex = (int)if_nametoindex(iface), .sll_halen = ETH_ALEN };
    if (addr.sll_ifindex == 0) { fprintf(stderr, "no interface %s\n", iface); return 1; }
    if (bind(fd, (struct sockaddr *)&addr, sizeof addr) < 0) { perror("bind"); return 1; }
    int one = 1;
    setsockopt(fd, SOL_PACKET, PACKET_QDISC_BYPASS, &one, sizeof one); /* best effort: older kernels lack it */
    int sndbuf = 64 << 20;
    setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf);

    struct mmsghdr *msgs = calloc((size_t)burst, sizeof *msgs);
    struct iovec *iov = calloc((size_t)burst, sizeof *iov);
    for (int i = 0; i < burst; i++) {
        msgs[i].msg_hdr.msg_iov = &iov[i];
        msgs[i].msg_hdr.msg_iovlen = 1;
    }

    unsigned long long sent = 0, bytes = 0, total = (unsigned long long)count * (unsigned long long)loops;
    double start = now();
    while (sent < total) {
        int n = 0;
        for (; n < burst && sent + (unsigned long long)n < total; n++) {
            const struct frame *fr = &frames[(sent + (unsigned long long)n) % count];
            iov[n].iov_base = (void *)fr->data;
            iov[n].iov_len = fr->len;
        }
        if (pps > 0) {
            /* The burst goes out when its first frame is due; busy-wait, as tcpreplay does. */
            double due = start + (double)sent / pps;
            while (now() < due) { }
        }
        int done = 0;
        while (done < n) {
            int r = sendmmsg(fd, msgs + done, (unsigned)(n - done), 0);
            if (r < 0) {
                if (errno == ENOBUFS || errno == EAGAIN || errno == EINTR) continue;
                perror("sendmmsg");
                return 1;
            }
            for (int i = done; i < done + r; i++) bytes += iov[i].iov_len;
            done += r;
        }
        sent += (unsigned long long)n;
    }
    double seconds = now() - start;
    if (seconds <= 0) seconds = 1e-9;
    printf("Actual: %llu packets (%llu bytes) sent in %.2f seconds\n", sent, bytes, seconds);
    printf("Rated: %.1f Bps, %.2f Mbps, %.2f pps\n", bytes / seconds, bytes * 8 / seconds / 1e6, sent / seconds);
    return 0;
}
