// One processing element: activation queue -> pointer read unit -> sparse-matrix read unit ->
// arithmetic unit, plus the activation read/write unit and the PE's performance counters.
// Activations (broadcast, queue, register files) are ACT_W bits: 16-bit linear values (MUL 0, 1)
// or log values packed {sign, zero, exp} in EA + 2 bits (MUL 2).
//
// Broadcast in: push with (act, col) when the CCU sends a non-zero activation; q_full stops the
// CCU. Latency: a broadcast pushed in cycle t has its first product accumulated (written) at
// t + 6 (queue t+1, pointer banks t+2, sparse-matrix word t+3..., codebook, multiply/read,
// accumulate); steady state one (v, z) entry a cycle.
// Counters (cleared by cnt_clr, counting while count_en): busy = cycles walking a column (an
// entry issued, or the single cycle of a column without entries here), starved = count_en
// cycles not busy, pad = padding entries (v = 0) processed.
// Backdoor images (simulation only): INIT_DIR/spm_pe<PE_ID>.hex, ptr_even_pe<PE_ID>.hex,
// ptr_odd_pe<PE_ID>.hex, codebook.hex from the folder given by the plusarg +EIE_INIT_DIR=<dir>
// or, without it, the INIT_DIR parameter when not empty (see eie_top).
`default_nettype none

module eie_pe #(
    parameter MUL       = 1,     // 0 linear 16x16, 1 log-domain shift, 2 log x log
    parameter EA        = 4,     // MUL = 2: exponent bits of a log activation
    parameter ACT_W     = 16,    // 16 (MUL 0, 1) or EA + 2 (MUL 2)
    parameter ACC_W     = 48,
    parameter COL_W     = 16,
    parameter QDEPTH    = 8,
    parameter PTR_W     = 16,
    parameter PTR_DEPTH = 256,
    parameter PTR_AW    = 9,
    parameter SPM_DEPTH = 1024,
    parameter SPM_AW    = 10,
    parameter ACT_DEPTH = 64,
    parameter ACT_AW    = 6,
    parameter CB_AW     = 7,
    parameter CNT_W     = 32,
    parameter PE_ID     = 0,
    parameter INIT_DIR  = ""     // folder of the memory images, "" for none
) (
    input  wire              clk,
    input  wire              rst,
    input  wire              flush,      // abort: empty every pipeline stage
    input  wire              clear,      // layer start: forget the accumulators
    input  wire              count_en,
    input  wire              cnt_clr,
    // load port (already decoded for this PE)
    input  wire              ld_spm,
    input  wire              ld_ptr,
    input  wire              ld_cb,
    input  wire [23:0]       ld_addr,
    input  wire [63:0]       ld_data,
    // layer
    input  wire [PTR_AW-1:0] ptr_base,
    input  wire [CB_AW-5:0]  layer,
    input  wire [4:0]        n_codes,
    input  wire [15:0]       rows,
    input  wire [5:0]        shift,
    input  wire              relu,
    input  wire              swap,
    // broadcast from the CCU
    input  wire              push,
    input  wire [ACT_W-1:0]  push_act,
    input  wire [COL_W-1:0]  push_col,
    output wire              q_full,
    // activation files
    input  wire              in_we,
    input  wire [ACT_AW-1:0] in_addr,
    input  wire [ACT_W-1:0]  in_data,
    input  wire              rd_en,
    input  wire [ACT_AW-1:0] rd_addr,
    output wire [ACT_W-1:0]  rd_data,
    input  wire              wb_en,      // read accumulator wb_addr; written back one cycle later
    input  wire [ACT_AW-1:0] wb_addr,
    // status
    output wire              idle,
    output wire              err_order,
    output wire              err_range,
    output wire              err_code,
    output wire              err_row,
    output reg  [CNT_W-1:0]  cnt_busy,
    output reg  [CNT_W-1:0]  cnt_starved,
    output reg  [CNT_W-1:0]  cnt_pad
);
    localparam QW = ACT_W + COL_W;

    // ---- activation queue ------------------------------------------------------------------
    wire [QW-1:0] q_head;
    wire          q_empty;
    wire          q_pop;
    wire [$clog2(QDEPTH + 1)-1:0] q_count;
    eie_act_queue #(.DATA_W(QW), .DEPTH(QDEPTH)) u_queue (
        .clk(clk), .rst(rst), .flush(flush),
        .push(push), .din({push_act, push_col}),
        .pop(q_pop), .dout(q_head), .empty(q_empty), .full(q_full), .count(q_count));

    // ---- pointer read ----------------------------------------------------------------------
    wire             p_valid;
    wire [PTR_W-1:0] p_start;
    wire [PTR_W-1:0] p_end;
    wire [ACT_W-1:0] p_act;
    wire [COL_W-1:0] p_col;
    wire             p_ready;
    eie_ptr_read #(.PTR_W(PTR_W), .PTR_DEPTH(PTR_DEPTH), .PTR_AW(PTR_AW), .ACT_W(ACT_W),
                   .COL_W(COL_W), .SPM_ENTRIES(8 * SPM_DEPTH)) u_ptr (
        .clk(clk), .rst(rst), .flush(flush),
        .ld_en(ld_ptr), .ld_addr(ld_addr[PTR_AW-1:0]), .ld_data(ld_data[PTR_W-1:0]),
        .ptr_base(ptr_base),
        .q_valid(!q_empty), .q_act(q_head[QW-1:COL_W]), .q_col(q_head[COL_W-1:0]), .q_pop(q_pop),
        .p_valid(p_valid), .p_start(p_start), .p_end(p_end), .p_act(p_act), .p_col(p_col),
        .p_ready(p_ready), .err_order(err_order), .err_range(err_range));

    // ---- sparse-matrix read ----------------------------------------------------------------
    wire             e_valid;
    wire [3:0]       e_v;
    wire [3:0]       e_z;
    wire             e_first;
    wire [ACT_W-1:0] e_act;
    wire             busy;
    eie_spmat_read #(.PTR_W(PTR_W), .SPM_DEPTH(SPM_DEPTH), .SPM_AW(SPM_AW), .ACT_W(ACT_W)) u_spm (
        .clk(clk), .rst(rst), .flush(flush),
        .ld_en(ld_spm), .ld_addr(ld_addr[SPM_AW-1:0]), .ld_data(ld_data),
        .p_valid(p_valid), .p_start(p_start), .p_end(p_end), .p_act(p_act),
        .p_err(err_order || err_range), .p_ready(p_ready),
        .e_valid(e_valid), .e_v(e_v), .e_z(e_z), .e_first(e_first), .e_act(e_act), .busy(busy));

    // ---- arithmetic ------------------------------------------------------------------------
    wire signed [ACC_W-1:0] wb_acc;
    wire                    pad;
    wire                    a_idle;
    eie_arith #(.MUL(MUL), .EA(EA), .ACT_W(ACT_W), .ACC_W(ACC_W), .ACC_DEPTH(ACT_DEPTH),
                .ACC_AW(ACT_AW), .CB_AW(CB_AW)) u_arith (
        .clk(clk), .rst(rst), .flush(flush), .clear(clear),
        .ld_en(ld_cb), .ld_addr(ld_addr[CB_AW-1:0]), .ld_data(ld_data[15:0]),
        .layer(layer), .n_codes(n_codes), .rows(rows),
        .e_valid(e_valid), .e_v(e_v), .e_z(e_z), .e_first(e_first), .e_act(e_act),
        .wb_en(wb_en), .wb_addr(wb_addr), .wb_data(wb_acc),
        .pad(pad), .idle(a_idle), .err_code(err_code), .err_row(err_row));

    // ---- activation read/write -------------------------------------------------------------
    reg              wb_valid;
    reg [ACT_AW-1:0] wb_addr_q;
    always @(posedge clk) begin
        if (rst || flush) begin
            wb_valid  <= 1'b0;
            wb_addr_q <= {ACT_AW{1'b0}};
        end else begin
            wb_valid  <= wb_en;
            wb_addr_q <= wb_addr;
        end
    end

    wire [ACT_W-1:0] wb_q;
    eie_act_rw #(.MUL(MUL), .EA(EA), .ACT_W(ACT_W), .ACC_W(ACC_W), .ACT_DEPTH(ACT_DEPTH),
                 .ACT_AW(ACT_AW)) u_act (
        .clk(clk), .rst(rst), .swap(swap),
        .in_we(in_we), .in_addr(in_addr), .in_data(in_data),
        .rd_en(rd_en), .rd_addr(rd_addr), .rd_data(rd_data),
        .wb_valid(wb_valid), .wb_addr(wb_addr_q), .wb_acc(wb_acc), .shift(shift), .relu(relu),
        .wb_q(wb_q));

    // ---- status and counters ---------------------------------------------------------------
    assign idle = q_empty && !p_valid && !busy && !e_valid && a_idle && !wb_valid;

    always @(posedge clk) begin
        if (rst || cnt_clr) begin
            cnt_busy    <= {CNT_W{1'b0}};
            cnt_starved <= {CNT_W{1'b0}};
            cnt_pad     <= {CNT_W{1'b0}};
        end else if (count_en) begin
            if (busy) cnt_busy    <= cnt_busy + 1'b1;
            else      cnt_starved <= cnt_starved + 1'b1;
            if (pad)  cnt_pad     <= cnt_pad + 1'b1;
        end
    end

    // ---- backdoor load of the exported memory images (docs/FORMATS.md), simulation only ------
`ifndef SYNTHESIS
    // The folder: the plusarg +EIE_INIT_DIR=<dir> if given, else the INIT_DIR parameter.
    reg [8*1024-1:0] init_dir;
    reg [8*1024-1:0] init_name;
    initial begin
        $sformat(init_dir, "%0s", INIT_DIR);
        if ($value$plusargs("EIE_INIT_DIR=%s", init_dir) || INIT_DIR != "") begin
            $sformat(init_name, "%0s/spm_pe%0d.hex", init_dir, PE_ID);
            $readmemh(init_name, u_spm.mem);
            $sformat(init_name, "%0s/ptr_even_pe%0d.hex", init_dir, PE_ID);
            $readmemh(init_name, u_ptr.bank_even);
            $sformat(init_name, "%0s/ptr_odd_pe%0d.hex", init_dir, PE_ID);
            $readmemh(init_name, u_ptr.bank_odd);
            $sformat(init_name, "%0s/codebook.hex", init_dir);
            $readmemh(init_name, u_arith.cb);
        end
    end
`endif

    wire unused_ok = &{1'b0, p_col, q_count, wb_q, ld_addr};
endmodule

`default_nettype wire
