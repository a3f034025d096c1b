/*
 * Start-up of the Native AOT binary: ask for transparent huge pages for the zero-filled end of the
 * writable segment before the .NET runtime starts.
 *
 * Why: the runtime's first act (RehydrateData) writes the program's type data, about 4.6 MB, into the
 * ".hydrated" section, which the linker places after .bss in the part of the writable PT_LOAD segment
 * that has no file bytes (p_memsz beyond p_filesz): anonymous memory, faulted in a 4 KiB page at a
 * time. That was some 1,150 of the 1,490 page faults of `sensor --version`, and on a virtual machine
 * where a fault is expensive the start-up took 32-36 ms against a 30 ms target. With MADV_HUGEPAGE on
 * the 2 MiB-aligned part of that range the kernel (transparent_hugepage "madvise" or "always") fills
 * it with 2 MiB pages: 24-25 ms (docs/performance.md, "Start-up"). The bytes written are the same.
 *
 * Only whole 2 MiB pages can be huge, and where .hydrated fell depended on the layout: with the load
 * address random to the 4 KiB page, on average 2.4 MB of it (some 600 faults, about 6 ms of the 27 ms
 * start-up here, measured with uprobes on RehydrateData) lay before the first or after the last 2 MiB
 * boundary (the linker had put the section right after .bss). So this file also adds an empty piece
 * of .hydrated aligned to 2 MiB (below): the linker gives the output section the largest alignment of
 * its pieces, starts it on a 2 MiB boundary, and puts the piece of this file (linked after the
 * compiler's object) at the next boundary after the compiler's data, so the section is whole huge
 * pages. The segment's p_align becomes 2 MiB, and the kernel (binfmt_elf, since Linux 5.10) loads the
 * program at an address aligned to it: 20 ms for a small read instead of 25-26. The tail of the last
 * huge page is written by no one: up to 2 MiB more resident memory, once. An older kernel ignores
 * p_align, and the advice covers what it can, as before.
 *
 * A constructor runs before main, so before the runtime. Nothing here can fail the program: where the
 * kernel has no transparent huge pages, or says no, the faults happen as before.
 */
#define _GNU_SOURCE
#include <link.h>
#include <stdint.h>
#include <sys/mman.h>

#define HUGE_PAGE ((uintptr_t)2 << 20)

/* NOBITS like the compiler's own .hydrated (a PROGBITS piece would put megabytes of zeros in the file);
 * GAS raises a section's alignment to the largest .balign in it. The label is referenced from the
 * constructor below, or the linker's --gc-sections would drop the piece as unused. */
__asm__(".pushsection .hydrated,\"aw\",@nobits\n\t.balign 0x200000\n"
        "hydrated_huge_page_boundary:\n\t.popsection");
extern char hydrated_huge_page_boundary[];

static int advise_zero_fill(struct dl_phdr_info *info, size_t size, void *unused)
{
    (void)size;
    (void)unused;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_LOAD || !(ph->p_flags & PF_W) || ph->p_memsz <= ph->p_filesz)
            continue;
        uintptr_t start = info->dlpi_addr + ph->p_vaddr + ph->p_filesz;
        uintptr_t end = info->dlpi_addr + ph->p_vaddr + ph->p_memsz;
        uintptr_t first = (start + HUGE_PAGE - 1) & ~(HUGE_PAGE - 1);
        uintptr_t last = end & ~(HUGE_PAGE - 1);
        if (last > first)
            (void)madvise((void *)first, last - first, MADV_HUGEPAGE);
    }
    /* dl_iterate_phdr(3): the main program is visited first; it is the only one wanted. */
    return 1;
}

__attribute__((constructor)) static void hydrated_hugepages(void)
{
    /* Keeps the aligned piece of .hydrated in the link (see above); the compiler cannot drop the read. */
    __asm__ volatile("" : : "r"(hydrated_huge_page_boundary));
    dl_iterate_phdr(advise_zero_fill, 0);
}
