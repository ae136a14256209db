// Formal harness of the engine's two AXI4-Stream ports (rtl/eie_top.v), at its ports only, on
// a tiny build (two PEs of two activation slots, two layers, 4-bit counters).
//
// Environment: anything on the load, control and counter ports and on m_axis_res_tready (any
// back-pressure); reset at any time; s_axis_act driven by a legal AXI4-Stream master (tvalid
// held and tdata/tlast stable until the handshake), with any tlast, right or wrong.
// The processing elements are the abstract PE of formal/eie_pe_abstract.sv: their read port
// contract (proved on the real PE by formal/eie_pe.sby), every other PE output free.
// Checked on m_axis_res (master):
//   - tvalid held and tdata/tlast/tuser stable while tvalid && !tready. tlast alone under
//     FV_TLAST, for k-induction: held tlast is a one-step fact of the state machine, while
//     PDR would have to tie a past bit to a 16-bit comparison, which its clause invariants
//     cannot express compactly;
//   - results only while busy, tuser = the number of results already sent in this run (slot
//     order from 0), nothing after the tlast result.
// Checked on s_axis_act (slave):
//   - tready only while busy, never again after the tlast handshake in a run;
//   - with layer 0's descriptor word A loaded (n = n_cols_in): tready only while fewer than n
//     elements were taken; at done, error cause 7 (ERR_STREAM) exactly when some handshake's
//     tlast was not "element n - 1", and a run that ends without error took exactly n.
`default_nettype none

module fv_eie_top #(
    parameter N_PE       = 2,
    parameter QDEPTH     = 1,
    parameter MUL        = 1,
    parameter ACT_DEPTH  = 2,
    parameter SPM_DEPTH  = 2,
    parameter PTR_DEPTH  = 2,
    parameter PTR_W      = 5,
    parameter MAX_LAYERS = 2,
    parameter CNT_W      = 4
) (
    input wire        clk,
    input wire        rst,
    input wire        start,
    input wire        ld_valid,
    input wire [2:0]  ld_sel,
    input wire [7:0]  ld_pe,
    input wire [23:0] ld_addr,
    input wire [63:0] ld_data,
    input wire [15:0] s_axis_act_tdata,
    input wire        s_axis_act_tvalid,
    input wire        s_axis_act_tlast,
    input wire        m_axis_res_tready,
    input wire [2:0]  cnt_sel,
    input wire [7:0]  cnt_pe
);
    wire             busy;
    wire             done;
    wire             error;
    wire [3:0]       err_cause;
    wire [7:0]       err_pe;
    wire             ld_ready;
    wire             s_axis_act_tready;
    wire [15:0]      m_axis_res_tdata;
    wire             m_axis_res_tvalid;
    wire             m_axis_res_tlast;
    wire [15:0]      m_axis_res_tuser;
    wire [CNT_W-1:0] cnt_data;

    eie_top #(.N_PE(N_PE), .QDEPTH(QDEPTH), .MUL(MUL), .ACT_DEPTH(ACT_DEPTH),
              .SPM_DEPTH(SPM_DEPTH), .PTR_DEPTH(PTR_DEPTH), .PTR_W(PTR_W),
              .MAX_LAYERS(MAX_LAYERS), .CNT_W(CNT_W)) dut (
        .clk(clk), .rst(rst), .start(start), .busy(busy), .done(done), .error(error),
        .err_cause(err_cause), .err_pe(err_pe),
        .ld_valid(ld_valid), .ld_ready(ld_ready), .ld_sel(ld_sel), .ld_pe(ld_pe),
        .ld_addr(ld_addr), .ld_data(ld_data),
        .s_axis_act_tdata(s_axis_act_tdata), .s_axis_act_tvalid(s_axis_act_tvalid),
        .s_axis_act_tready(s_axis_act_tready), .s_axis_act_tlast(s_axis_act_tlast),
        .m_axis_res_tdata(m_axis_res_tdata), .m_axis_res_tvalid(m_axis_res_tvalid),
        .m_axis_res_tready(m_axis_res_tready), .m_axis_res_tlast(m_axis_res_tlast),
        .m_axis_res_tuser(m_axis_res_tuser), .cnt_sel(cnt_sel), .cnt_pe(cnt_pe),
        .cnt_data(cnt_data));

    reg f_past_valid = 1'b0;
    always @(posedge clk) f_past_valid <= 1'b1;
    always @(*) if (!f_past_valid) assume(rst);

    // ---- environment -------------------------------------------------------------------------
    always @(*) if (ld_valid && ld_sel == 3'd3) assume(ld_addr < 2 * MAX_LAYERS);
    always @(posedge clk) begin
        if (f_past_valid && $past(s_axis_act_tvalid && !s_axis_act_tready && !rst))
            assume(s_axis_act_tvalid && $stable(s_axis_act_tdata) && $stable(s_axis_act_tlast));
    end

    wire f_go     = start && !busy;   // a run starts
    wire f_in_hs  = s_axis_act_tvalid && s_axis_act_tready;
    wire f_out_hs = m_axis_res_tvalid && m_axis_res_tready;

    // layer 0's descriptor word A as loaded (loads are taken only while idle)
    reg        f_known = 1'b0;
    reg [15:0] f_ncols;
    always @(posedge clk) begin
        if (ld_valid && ld_ready && ld_sel == 3'd3 && ld_addr == 24'd0) begin
            f_known <= 1'b1;
            f_ncols <= ld_data[15:0];
        end
    end

    // ---- one run's streams -------------------------------------------------------------------
    reg [15:0] f_in_n;          // elements taken
    reg        f_in_end;        // the tlast element was taken
    reg        f_bad;           // an element's tlast did not match its position
    reg [15:0] f_out_n;         // results sent
    reg        f_out_end;       // the tlast result was sent
    always @(posedge clk) begin
        if (rst || f_go) begin
            f_in_n    <= 16'd0;
            f_in_end  <= 1'b0;
            f_bad     <= 1'b0;
            f_out_n   <= 16'd0;
            f_out_end <= 1'b0;
        end else begin
            if (f_in_hs) begin
                f_in_n <= f_in_n + 16'd1;
                if (s_axis_act_tlast) f_in_end <= 1'b1;
                if (s_axis_act_tlast != (f_in_n + 16'd1 == f_ncols)) f_bad <= 1'b1;
            end
            if (f_out_hs) begin
                f_out_n <= f_out_n + 16'd1;
                if (m_axis_res_tlast) f_out_end <= 1'b1;
            end
        end
    end

    reg f_held = 1'b0;   // last cycle: a result offered and not taken (no reset)
    always @(posedge clk) f_held <= m_axis_res_tvalid && !m_axis_res_tready && !rst;

`ifdef FV_TLAST
    // ---- tlast held while stalled: alone, for k-induction ------------------------------------
    always @(posedge clk) if (f_held) assert($stable(m_axis_res_tlast));
`else
    // ---- result stream (master) --------------------------------------------------------------
    always @(posedge clk) begin
        if (f_held) begin
            assert(m_axis_res_tvalid);
            assert($stable(m_axis_res_tdata));
            assert($stable(m_axis_res_tuser));
        end
    end
    always @(*) begin
        if (f_past_valid && m_axis_res_tvalid)
            assert(busy && !f_out_end && m_axis_res_tuser == f_out_n);
    end

    // ---- activation stream (slave) -----------------------------------------------------------
    always @(*) begin
        if (f_past_valid) begin
            if (s_axis_act_tready) begin
                assert(busy && !f_in_end);
                if (f_known) assert(f_in_n < f_ncols);
            end
            if (done && f_known) begin
                assert((error && err_cause == 4'd7) == f_bad);
                if (!error) assert(f_in_n == f_ncols);
            end
        end
    end
`endif
endmodule

`default_nettype wire
