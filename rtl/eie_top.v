// EIE-style sparse matrix-vector engine (Han et al., ISCA 2016): a central control unit with a
// leading non-zero detection tree broadcasting non-zero activations to N_PE processing elements,
// each holding an interleaved share of the rows in compressed sparse column form
// (docs/FORMATS.md). Several layers run back to back from a layer descriptor table.
// Multiply modes (MUL): 0 linear 16-bit activations x linear 16-bit weights (mul_lin), 1 linear
// activations x log weights (a shift, mul_lin_log), 2 log activations x log weights (an exponent
// add, mul_log_log; write-back by log_requant). Activations (register-file slots, queue entries,
// broadcast) are SW bits: 16 (MUL 0, 1) or EA + 2 (MUL 2: packed {sign, zero, exp} as
// models.fixedpoint.pack_log, the value 0 is 1 << EA).
// The map below (load port, descriptor fields, errors, counters) is defined on the model side by
// models/engine_map.py, which builds every word the testbenches, make sim and the exporter load;
// change the two together.
//
// ---- Load port (accepted while ld_ready, i.e. not busy) ------------------------------------
//   ld_sel 0  sparse-matrix word of PE ld_pe, word address ld_addr, 64-bit ld_data
//          1  pointer word of PE ld_pe, word address ld_addr (even word -> even bank), PTR_W bits
//          2  codebook word (every PE), address 16*layer + v, ld_data[15:0]
//          3  layer descriptor, address 2*layer + w (w = 0: word A, 1: word B)
//   ld_pe = 8'hff writes sel 0 / 1 to every PE.
//   Descriptor word A: [15:0] n_cols_in (activation columns = input slots, bias excluded)
//                      [31:16] rows (output rows per PE = n_slots_out / N_PE), [47:32] bias_act
//                      (an activation word: 16-bit linear, or packed log in bits SW-1:0, upper
//                      bits 0), [48] has_bias, [49] relu, [50] weight mode (0 linear, 1 log),
//                      [51] last layer, [57:52] shift, [62:58] n_codes (codebook size in use,
//                      1..16), [63] activation mode (0 linear, 1 log)
//   Descriptor word B: [31:0] ptr_base (pointer word address, even), [59:32] spm_base (unused),
//                      [63:60] act_exp_w (EA of log activations, 0 for linear)
//   The modes must match the build: MUL 0 weight mode 0, activation mode 0; MUL 1 weight mode
//   1, activation mode 0; MUL 2 weight mode 1, activation mode 1; act_exp_w = EA (MUL 2), else 0.
// ---- Run -------------------------------------------------------------------------------------
//   start (while idle): busy rises; layer 0's n_cols_in activations are taken from
//   s_axis_act (element j -> slot j, tlast on the last one; tdata[SW-1:0] is the activation,
//   tdata[15:SW] must be 0); layers run until one with the last bit; the last layer's
//   n_slots_out = N_PE * rows results leave on m_axis_res (zero-extended to 16 bits) in slot
//   order, slot index in tuser, tlast on the last (back-pressure honoured); done pulses, busy
//   falls.
// ---- Errors (error stays set until the next start; err_pe names the PE for causes 1, 2, 4, 5):
//   1 ERR_PTR_RANGE  a column pointer past the end of the sparse-matrix memory
//   2 ERR_PTR_ORDER  a column that ends before it starts (p[j+1] < p[j])
//   3 ERR_SIZE       layer larger than the buffers: n_cols_in > N_PE*ACT_DEPTH, rows >
//                    ACT_DEPTH, pointer words past the pointer memory, or no last layer within
//                    MAX_LAYERS descriptors
//   4 ERR_CODE       a code v >= n_codes (past the codebook size in use)
//   5 ERR_ROW        an entry's row past the layer's rows per PE
//   6 ERR_DESC       a bad descriptor: modes or act_exp_w not those of the build, bias_act
//                    with bits set above SW, n_codes not in 1..16, rows = 0, ptr_base odd,
//                    or n_cols_in > the previous layer's N_PE*rows
//   7 ERR_STREAM     input stream tlast not on element n_cols_in-1, or an input word with
//                    bits set above SW
//   On an error every pipeline is flushed, done pulses and the engine is idle again.
// ---- Counters (cnt_sel, cnt_pe -> cnt_data, combinational; cleared at start) -----------------
//   0 total cycles of the last run (busy cycles), 1 compute cycles (sum over layers of the
//   cycles from the broadcast start to the CCU's done), 2 busy cycles of PE cnt_pe,
//   3 starved cycles of PE cnt_pe, 4 padding entries of PE cnt_pe, 5 CCU broadcasts,
//   6 cycles the CCU was stalled by a full queue, 7 layers completed.
// Backdoor: INIT_DIR (string) names a folder of memory images written by models/memimage.py;
// every PE loads them at time 0 in simulation (descriptors still go through the load port).
`default_nettype none

module eie_top #(
    parameter N_PE       = 4,
    parameter QDEPTH     = 8,
    parameter MUL        = 1,      // 0 linear 16x16 multiply, 1 log-domain shift, 2 log x log
    parameter EA         = 4,      // MUL = 2: exponent bits of a log activation, 3..5
    parameter ACT_DEPTH  = 64,     // activation slots (rows) per PE
    parameter SPM_DEPTH  = 1024,   // 64-bit sparse-matrix words per PE
    parameter PTR_DEPTH  = 512,    // pointer words per bank per PE
    parameter PTR_W      = 20,
    parameter MAX_LAYERS = 4,
    parameter CNT_W      = 32,
    parameter INIT_DIR   = ""
) (
    input  wire         clk,
    input  wire         rst,
    // control and status
    input  wire         start,
    output wire         busy,
    output reg          done,
    output reg          error,
    output reg  [3:0]   err_cause,
    output reg  [7:0]   err_pe,
    // load port
    input  wire         ld_valid,
    output wire         ld_ready,
    input  wire [2:0]   ld_sel,
    input  wire [7:0]   ld_pe,
    input  wire [23:0]  ld_addr,
    input  wire [63:0]  ld_data,
    // activations in
    input  wire [15:0]  s_axis_act_tdata,
    input  wire         s_axis_act_tvalid,
    output wire         s_axis_act_tready,
    input  wire         s_axis_act_tlast,
    // results out
    output wire [15:0]  m_axis_res_tdata,
    output wire         m_axis_res_tvalid,
    input  wire         m_axis_res_tready,
    output wire         m_axis_res_tlast,
    output wire [15:0]  m_axis_res_tuser,
    // counters
    input  wire [2:0]   cnt_sel,
    input  wire [7:0]   cnt_pe,
    output reg  [CNT_W-1:0] cnt_data
);
    localparam SW      = (MUL == 2) ? EA + 2 : 16;   // activation bits
    localparam ACC_W   = 48;
    localparam COL_W   = 16;
    localparam ACT_AW  = (ACT_DEPTH <= 2) ? 1 : $clog2(ACT_DEPTH);
    localparam SPM_AW  = (SPM_DEPTH <= 2) ? 1 : $clog2(SPM_DEPTH);
    localparam PTR_AW  = $clog2(2 * PTR_DEPTH);
    localparam LAY_W   = (MAX_LAYERS <= 2) ? 1 : $clog2(MAX_LAYERS);
    localparam CB_AW   = 4 + LAY_W;
    localparam integer   LAST_PE_I = N_PE - 1;
    localparam [7:0]     LAST_PE   = LAST_PE_I[7:0];
    localparam integer   SW_ONES   = (1 << SW) - 1;
    localparam [15:0]    ABOVE_SW  = ~SW_ONES[15:0];    // bits of a 16-bit word above SW
    localparam integer   EXP_A_I   = (MUL == 2) ? EA : 0;
    localparam [3:0]     EXP_A     = EXP_A_I[3:0];      // the descriptor's act_exp_w

    localparam [3:0] ERR_PTR_RANGE = 4'd1, ERR_PTR_ORDER = 4'd2, ERR_SIZE = 4'd3,
                     ERR_CODE = 4'd4, ERR_ROW = 4'd5, ERR_DESC = 4'd6, ERR_STREAM = 4'd7;

    localparam [3:0] S_IDLE = 4'd0, S_DESC = 4'd1, S_CHECK = 4'd2, S_INPUT = 4'd3,
                     S_RUN = 4'd4, S_WB = 4'd5, S_WB_END = 4'd6, S_OUT_RD = 4'd7,
                     S_OUT = 4'd8, S_ABORT = 4'd9, S_DONE = 4'd10;

    reg [3:0] state;
    assign busy     = state != S_IDLE;
    assign ld_ready = state == S_IDLE;

    // ---- layer descriptor table ------------------------------------------------------------
    reg [63:0] desc_a [0:MAX_LAYERS-1];
    reg [63:0] desc_b [0:MAX_LAYERS-1];
    reg [63:0] da;
    reg [63:0] db;
    reg [LAY_W-1:0] layer;
    reg             layer_end;     // layer has reached MAX_LAYERS - 1 (the table's last entry)
    wire ld_go = ld_valid && ld_ready;

    always @(posedge clk) begin
        if (ld_go && ld_sel == 3'd3 && !ld_addr[0]) desc_a[ld_addr[LAY_W:1]] <= ld_data;
        if (ld_go && ld_sel == 3'd3 && ld_addr[0])  desc_b[ld_addr[LAY_W:1]] <= ld_data;
        if (state == S_DESC) begin
            da <= desc_a[layer];
            db <= desc_b[layer];
        end
    end

    wire [15:0] d_ncols  = da[15:0];
    wire [15:0] d_rows   = da[31:16];
    wire [15:0] d_bias   = da[47:32];
    wire        d_hasb   = da[48];
    wire        d_relu   = da[49];
    wire        d_mode   = da[50];
    wire        d_last   = da[51];
    wire [5:0]  d_shift  = da[57:52];
    wire [4:0]  d_ncodes = da[62:58];
    wire        d_amode  = da[63];
    wire [31:0] d_pbase  = db[31:0];
    wire [3:0]  d_aexp   = db[63:60];
    wire        unused_desc = &{1'b0, db[59:32]};

    reg  [15:0] rows_prev;
    wire [33:0] ptr_need = {2'b0, d_pbase} + {18'd0, d_ncols} + {33'd0, d_hasb} + 34'd1;
    wire size_bad = ({16'd0, d_ncols} > N_PE * ACT_DEPTH) || ({16'd0, d_rows} > ACT_DEPTH)
                  || (ptr_need > 2 * PTR_DEPTH) || (!d_last && layer_end);
    wire mode_bad = (d_mode != (MUL != 0)) || (d_amode != (MUL == 2)) || (d_aexp != EXP_A)
                  || ((d_bias & ABOVE_SW) != 16'd0);
    wire desc_bad = mode_bad || (d_ncodes == 5'd0) || (d_ncodes > 5'd16)
                  || (d_rows == 16'd0) || d_pbase[0]
                  || ((layer != {LAY_W{1'b0}}) && ({16'd0, d_ncols} > N_PE * rows_prev));

    // ---- PEs and CCU -----------------------------------------------------------------------
    wire [N_PE-1:0]       pe_idle, pe_full, e_order, e_range, e_code, e_row;
    wire [N_PE*SW-1:0]    pe_rd;
    wire [N_PE*CNT_W-1:0] c_busy, c_starved, c_pad;

    wire             run      = state == S_RUN;
    wire             flush    = state == S_ABORT;
    wire             clear    = state == S_CHECK;
    reg              ccu_go;
    wire             ccu_rd_en;
    wire [ACT_AW-1:0] ccu_rd_addr;
    wire             bcast;
    wire [SW-1:0]    bcast_act;
    wire [COL_W-1:0] bcast_col;
    wire             ccu_done;
    wire             ccu_active;

    eie_ccu #(.N(N_PE), .LOG_ACT(MUL == 2), .ACT_W(SW), .COL_W(COL_W), .ACT_AW(ACT_AW)) u_ccu (
        .clk(clk), .rst(rst), .start(ccu_go), .halt(flush),
        .n_in(d_ncols), .has_bias(d_hasb), .bias_act(d_bias[SW-1:0]),
        .rd_en(ccu_rd_en), .rd_addr(ccu_rd_addr), .rd_data(pe_rd),
        .stall(|pe_full), .pe_idle(&pe_idle),
        .bcast(bcast), .bcast_act(bcast_act), .bcast_col(bcast_col),
        .active_o(ccu_active), .done(ccu_done));

    // input stream: slot j -> PE in_pe, local in_loc
    reg  [7:0]        in_pe;
    reg  [ACT_AW-1:0] in_loc;
    reg  [15:0]       in_cnt;
    wire in_fire = (state == S_INPUT) && s_axis_act_tvalid;
    wire in_bad  = (s_axis_act_tdata & ABOVE_SW) != 16'd0;   // bits above the activation
    assign s_axis_act_tready = state == S_INPUT;

    // write-back: local rows 0 .. rows-1 of every PE
    reg  [15:0] wb_cnt;
    wire        wb_en = state == S_WB;
    wire        swap  = state == S_WB_END;   // the last write-back lands as the files swap

    // result stream
    reg  [15:0]       out_grp;
    reg  [7:0]        out_k;
    reg  [15:0]       out_slot;
    wire              out_rd = state == S_OUT_RD;
    wire              rd_en   = ccu_rd_en || out_rd;
    wire [ACT_AW-1:0] rd_addr = out_rd ? out_grp[ACT_AW-1:0] : ccu_rd_addr;

    genvar k;
    generate
        for (k = 0; k < N_PE; k = k + 1) begin : g_pe
            wire mine = (ld_pe == k) || (ld_pe == 8'hff);
            eie_pe #(.MUL(MUL), .EA(EA), .ACT_W(SW), .ACC_W(ACC_W), .COL_W(COL_W),
                     .QDEPTH(QDEPTH), .PTR_W(PTR_W), .PTR_DEPTH(PTR_DEPTH), .PTR_AW(PTR_AW),
                     .SPM_DEPTH(SPM_DEPTH), .SPM_AW(SPM_AW), .ACT_DEPTH(ACT_DEPTH),
                     .ACT_AW(ACT_AW), .CB_AW(CB_AW), .CNT_W(CNT_W), .PE_ID(k),
                     .INIT_DIR(INIT_DIR)) u_pe (
                .clk(clk), .rst(rst), .flush(flush), .clear(clear), .count_en(run),
                .cnt_clr(start && state == S_IDLE),
                .ld_spm(ld_go && ld_sel == 3'd0 && mine),
                .ld_ptr(ld_go && ld_sel == 3'd1 && mine),
                .ld_cb(ld_go && ld_sel == 3'd2),
                .ld_addr(ld_addr), .ld_data(ld_data),
                .ptr_base(d_pbase[PTR_AW-1:0]), .layer(layer), .n_codes(d_ncodes),
                .rows(d_rows), .shift(d_shift), .relu(d_relu), .swap(swap),
                .push(bcast), .push_act(bcast_act), .push_col(bcast_col), .q_full(pe_full[k]),
                .in_we(in_fire && in_pe == k), .in_addr(in_loc),
                .in_data(s_axis_act_tdata[SW-1:0]),
                .rd_en(rd_en), .rd_addr(rd_addr), .rd_data(pe_rd[k*SW +: SW]),
                .wb_en(wb_en), .wb_addr(wb_cnt[ACT_AW-1:0]),
                .idle(pe_idle[k]), .err_order(e_order[k]), .err_range(e_range[k]),
                .err_code(e_code[k]), .err_row(e_row[k]),
                .cnt_busy(c_busy[k*CNT_W +: CNT_W]), .cnt_starved(c_starved[k*CNT_W +: CNT_W]),
                .cnt_pad(c_pad[k*CNT_W +: CNT_W]));
        end
    endgenerate

    // ---- PE errors: the lowest PE with an error, by cause --------------------------------------
    reg       pe_err;
    reg [3:0] pe_cause;
    reg [7:0] pe_idx;
    always @(*) begin : p_pe_err
        integer i;   // each combinational block has its own loop variable (no shared latch)
        pe_err   = 1'b0;
        pe_cause = 4'd0;
        pe_idx   = 8'd0;
        for (i = N_PE - 1; i >= 0; i = i - 1) begin
            if (e_range[i] || e_order[i] || e_code[i] || e_row[i]) begin
                pe_err   = 1'b1;
                pe_idx   = i[7:0];
                pe_cause = e_range[i] ? ERR_PTR_RANGE : e_order[i] ? ERR_PTR_ORDER
                         : e_code[i] ? ERR_CODE : ERR_ROW;
            end
        end
    end

    // ---- result stream (zero-extended to 16 bits) -----------------------------------------------
    reg [15:0] out_data;
    always @(*) begin : p_out_data
        integer i;
        out_data = 16'd0;
        for (i = 0; i < N_PE; i = i + 1)
            if (out_k == i[7:0]) out_data[SW-1:0] = pe_rd[i*SW +: SW];
    end
    assign m_axis_res_tvalid = state == S_OUT;
    assign m_axis_res_tdata  = out_data;
    assign m_axis_res_tuser  = out_slot;
    assign m_axis_res_tlast  = (out_grp + 16'd1 == d_rows) && (out_k == LAST_PE);
    wire out_fire = m_axis_res_tvalid && m_axis_res_tready;

    // ---- counters --------------------------------------------------------------------------------
    reg [CNT_W-1:0] cnt_total, cnt_run, cnt_bcast, cnt_stall, cnt_layers;
    always @(*) begin : p_cnt_data
        integer i;
        i        = 0;   // assigned on every path: the loop below runs in one branch only
        cnt_data = {CNT_W{1'b0}};
        case (cnt_sel)
            3'd0: cnt_data = cnt_total;
            3'd1: cnt_data = cnt_run;
            3'd5: cnt_data = cnt_bcast;
            3'd6: cnt_data = cnt_stall;
            3'd7: cnt_data = cnt_layers;
            default:
                for (i = 0; i < N_PE; i = i + 1)
                    if (cnt_pe == i[7:0])
                        cnt_data = (cnt_sel == 3'd2) ? c_busy[i*CNT_W +: CNT_W]
                                 : (cnt_sel == 3'd3) ? c_starved[i*CNT_W +: CNT_W]
                                 :                     c_pad[i*CNT_W +: CNT_W];
        endcase
    end

    // ---- control ---------------------------------------------------------------------------------
    always @(posedge clk) begin
        if (rst) begin
            state      <= S_IDLE;
            done       <= 1'b0;
            error      <= 1'b0;
            err_cause  <= 4'd0;
            err_pe     <= 8'd0;
            layer      <= {LAY_W{1'b0}};
            layer_end  <= 1'b0;
            rows_prev  <= 16'd0;
            ccu_go     <= 1'b0;
            in_pe      <= 8'd0;
            in_loc     <= {ACT_AW{1'b0}};
            in_cnt     <= 16'd0;
            wb_cnt     <= 16'd0;
            out_grp    <= 16'd0;
            out_k      <= 8'd0;
            out_slot   <= 16'd0;
            cnt_total  <= {CNT_W{1'b0}};
            cnt_run    <= {CNT_W{1'b0}};
            cnt_bcast  <= {CNT_W{1'b0}};
            cnt_stall  <= {CNT_W{1'b0}};
            cnt_layers <= {CNT_W{1'b0}};
        end else begin
            done   <= 1'b0;
            ccu_go <= 1'b0;
            if (busy) cnt_total <= cnt_total + 1'b1;
            if (run)  cnt_run   <= cnt_run + 1'b1;
            if (bcast) cnt_bcast <= cnt_bcast + 1'b1;
            if (ccu_active && |pe_full) cnt_stall <= cnt_stall + 1'b1;
            case (state)
                S_IDLE: if (start) begin
                    state      <= S_DESC;
                    error      <= 1'b0;
                    err_cause  <= 4'd0;
                    err_pe     <= 8'd0;
                    layer      <= {LAY_W{1'b0}};
                    layer_end  <= MAX_LAYERS == 1;
                    cnt_total  <= {CNT_W{1'b0}};
                    cnt_run    <= {CNT_W{1'b0}};
                    cnt_bcast  <= {CNT_W{1'b0}};
                    cnt_stall  <= {CNT_W{1'b0}};
                    cnt_layers <= {CNT_W{1'b0}};
                end
                S_DESC: state <= S_CHECK;
                S_CHECK: begin
                    in_pe  <= 8'd0;
                    in_loc <= {ACT_AW{1'b0}};
                    in_cnt <= 16'd0;
                    wb_cnt <= 16'd0;
                    if (size_bad || desc_bad) begin
                        err_cause <= size_bad ? ERR_SIZE : ERR_DESC;
                        state     <= S_ABORT;
                    end else if (layer == {LAY_W{1'b0}} && d_ncols != 16'd0) begin
                        state <= S_INPUT;
                    end else begin
                        state  <= S_RUN;
                        ccu_go <= 1'b1;
                    end
                end
                S_INPUT: if (in_fire) begin
                    in_cnt <= in_cnt + 16'd1;
                    if (in_pe == LAST_PE) begin
                        in_pe  <= 8'd0;
                        in_loc <= in_loc + 1'b1;
                    end else begin
                        in_pe <= in_pe + 8'd1;
                    end
                    if (in_bad || s_axis_act_tlast != (in_cnt + 16'd1 == d_ncols)) begin
                        err_cause <= ERR_STREAM;
                        state     <= S_ABORT;
                    end else if (s_axis_act_tlast) begin
                        state  <= S_RUN;
                        ccu_go <= 1'b1;
                    end
                end
                S_RUN: begin
                    if (pe_err) begin
                        err_cause <= pe_cause;
                        err_pe    <= pe_idx;
                        state     <= S_ABORT;
                    end else if (ccu_done && !ccu_go) begin
                        state <= S_WB;
                    end
                end
                S_WB: begin
                    wb_cnt <= wb_cnt + 16'd1;
                    if (wb_cnt + 16'd1 == d_rows) state <= S_WB_END;
                end
                S_WB_END: begin   // the last write-back lands; the register files swap roles
                    rows_prev  <= d_rows;
                    cnt_layers <= cnt_layers + 1'b1;
                    if (d_last) begin
                        state    <= S_OUT_RD;
                        out_grp  <= 16'd0;
                        out_k    <= 8'd0;
                        out_slot <= 16'd0;
                    end else begin
                        state     <= S_DESC;
                        layer     <= layer + 1'b1;
                        layer_end <= ({{(32 - LAY_W){1'b0}}, layer} + 2 >= MAX_LAYERS);
                    end
                end
                S_OUT_RD: state <= S_OUT;
                S_OUT: if (out_fire) begin
                    out_slot <= out_slot + 16'd1;
                    if (out_k == LAST_PE) begin
                        out_k   <= 8'd0;
                        out_grp <= out_grp + 16'd1;
                        state   <= m_axis_res_tlast ? S_DONE : S_OUT_RD;
                    end else begin
                        out_k <= out_k + 8'd1;
                    end
                end
                S_ABORT: begin
                    error <= 1'b1;
                    state <= S_DONE;
                end
                default: begin   // S_DONE
                    done  <= 1'b1;
                    state <= S_IDLE;
                end
            endcase
        end
    end
endmodule

`default_nettype wire
