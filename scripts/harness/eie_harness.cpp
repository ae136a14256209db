// Bare Verilator C++ harness of eie_top: the same run as tb/eie_fc8/cocotb_fc8.py without cocotb
// (reset, descriptor load through the load port, start, input stream, result stream until done,
// counters), to measure simulated cycles per second without the Python overhead.
//
//   eie_harness +EIE_INIT_DIR=<dir> <dir>/harness_in.txt <out.txt>
// harness_in.txt: "n_desc" then per layer "A B" (hex 64-bit descriptor words), then "n_x" and
// n_x input activations (decimal, signed 16-bit). out.txt: the results "slot value" a line.
// Prints one JSON line: cycles of the whole run, compute/total counters, wall seconds.
#include "Veie_top.h"
#include "verilated.h"

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <memory>
#include <vector>

static uint64_t cycles = 0;

static void tick(Veie_top* t) {   // inputs are set while clk is low; one rising edge
    t->clk = 1;
    t->eval();
    t->clk = 0;
    t->eval();
    ++cycles;
}

static uint32_t counter(Veie_top* t, int sel, int pe = 0) {
    t->cnt_sel = sel;
    t->cnt_pe = pe;
    t->eval();
    return t->cnt_data;
}

int main(int argc, char** argv) {
    auto ctx = std::make_unique<VerilatedContext>();
    ctx->commandArgs(argc, argv);
    std::vector<const char*> files;
    for (int i = 1; i < argc; ++i)
        if (argv[i][0] != '+') files.push_back(argv[i]);
    if (files.size() != 2) {
        std::fprintf(stderr, "usage: %s +EIE_INIT_DIR=<dir> <harness_in.txt> <out.txt>\n", argv[0]);
        return 2;
    }
    std::ifstream in(files[0]);
    size_t n_desc = 0, n_x = 0;
    in >> n_desc;
    std::vector<uint64_t> desc(2 * n_desc);
    for (auto& d : desc) in >> std::hex >> d;
    in >> std::dec >> n_x;
    std::vector<int> x(n_x);
    for (auto& v : x) in >> v;
    if (!in) { std::fprintf(stderr, "bad input file %s\n", files[0]); return 2; }

    auto t = std::make_unique<Veie_top>(ctx.get());
    t->clk = 0; t->rst = 1; t->start = 0; t->ld_valid = 0; t->s_axis_act_tvalid = 0;
    t->m_axis_res_tready = 0; t->cnt_sel = 0; t->cnt_pe = 0;
    t->eval();
    for (int i = 0; i < 3; ++i) tick(t.get());
    t->rst = 0;
    auto w0 = std::chrono::steady_clock::now();   // after the backdoor load (first eval)
    for (size_t i = 0; i < desc.size(); ++i) {          // descriptors through the load port
        t->ld_valid = 1; t->ld_sel = 3; t->ld_pe = 0; t->ld_addr = (uint32_t)i; t->ld_data = desc[i];
        tick(t.get());
    }
    t->ld_valid = 0;
    t->start = 1;
    tick(t.get());
    t->start = 0;
    t->m_axis_res_tready = 1;
    size_t sent = 0;
    std::vector<std::pair<int, int>> res;
    uint64_t limit = cycles + 100000000ULL;
    bool done = false;
    while (!done && cycles < limit) {
        if (sent < n_x) {
            t->s_axis_act_tvalid = 1;
            t->s_axis_act_tdata = (uint16_t)x[sent];
            t->s_axis_act_tlast = sent + 1 == n_x;
        } else {
            t->s_axis_act_tvalid = 0;
            t->s_axis_act_tlast = 0;
        }
        t->eval();
        bool in_fire = t->s_axis_act_tvalid && t->s_axis_act_tready;
        if (t->m_axis_res_tvalid)
            res.emplace_back((int)t->m_axis_res_tuser, (int)(int16_t)t->m_axis_res_tdata);
        tick(t.get());
        if (in_fire) ++sent;
        done = t->done;
    }
    auto w1 = std::chrono::steady_clock::now();
    double wall = std::chrono::duration<double>(w1 - w0).count();
    std::ofstream out(files[1]);
    for (auto& r : res) out << r.first << " " << r.second << "\n";
    std::printf("{\"cycles\": %llu, \"total_cycles\": %u, \"compute_cycles\": %u, \"error\": %d, "
                "\"results\": %zu, \"wall_s\": %.6f}\n", (unsigned long long)cycles,
                counter(t.get(), 0), counter(t.get(), 1), (int)t->error, res.size(), wall);
    t->final();
    return t->error ? 1 : 0;
}
