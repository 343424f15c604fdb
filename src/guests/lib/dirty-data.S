# lib/dirty-data.S - the written words of lib/dirty-core.S, in the
# includer's page-aligned data page right after its patchable words
# (pages_per_vcpu, pattern, max_iterations).  Exported words: see the guests'
# headers (the host-side torture checker reads them).

    .globl nharts
    .globl region_base
    .globl region_pages
    .globl iterations_done
nharts:          .word 0           # harts running, set by the boot hart
done_count:      .word 0           # harts finished
boot_hart:       .word 0
console_lock:    .word 0
have_ipi:        .word 0           # SBI IPI extension present
region_base:     .space 4 * MAX_HARTS   # guest physical start of hart h's region
region_pages:    .space 4 * MAX_HARTS   # pages in hart h's region
iterations_done: .space 4 * MAX_HARTS   # last pass hart h completed
