// Formal harness of the central control unit (rtl/eie_ccu.v), at its ports only.
//
// The PEs' source register files are an abstract memory of SLOTS = N * 2**ACT_AW slots, read
// as in eie_act_rw (group rd_addr on rd_data the cycle after rd_en, held otherwise), with any
// contents, new ones for every layer (taken when start is high). Any layer (n_in <= SLOTS,
// has_bias, bias_act; stable while the layer runs, as eie_top's descriptor register is), any
// stall and pe_idle pattern, halt at any time; start only while no layer runs (eie_top starts
// the CCU from S_CHECK / S_INPUT, after the previous layer's done or an abort). Checked:
//   - broadcasts only inside a layer and never while stalled;
//   - a broadcast is either slot j < n_in with its non-zero value and column j, or the bias
//     column n_in with bias_act when has_bias and bias_act != 0;
//   - columns strictly increase within a layer: nothing repeated, the bias once and last;
//   - done only inside a layer with pe_idle, and by then every non-zero slot j < n_in (f_j,
//     anyconst: every slot) and the bias (when due) have been broadcast: none skipped;
//   - register-file reads only inside a layer and only of groups holding slots < n_in;
//   - bounded liveness: after K = SLOTS + 3 consecutive cycles without stall (a layer's
//     first included) everything is broadcast and done equals pe_idle, i.e. done comes as
//     soon as the PEs are idle. The bound is tight: SLOTS + 2 fails (a dense layer).
`default_nettype none

module fv_eie_ccu #(
    parameter N      = 4,
    parameter ACT_W  = 2,
    parameter COL_W  = 8,
    parameter ACT_AW = 2,
    parameter SLOTS  = N << ACT_AW,      // derived
    parameter K      = SLOTS + 3
) (
    input wire                   clk,
    input wire                   rst,
    input wire                   start,
    input wire                   halt,
    input wire [COL_W-1:0]       n_in,
    input wire                   has_bias,
    input wire [ACT_W-1:0]       bias_act,
    input wire                   stall,
    input wire                   pe_idle,
    input wire [SLOTS*ACT_W-1:0] f_new_acts   // free: the next layer's activations
);
    localparam GW     = N * ACT_W;   // bits of one group

    wire              rd_en;
    wire [ACT_AW-1:0] rd_addr;
    reg  [GW-1:0]     rd_data;
    wire              bcast;
    wire [ACT_W-1:0]  bcast_act;
    wire [COL_W-1:0]  bcast_col;
    wire              active_o;
    wire              done;

    eie_ccu #(.N(N), .ACT_W(ACT_W), .COL_W(COL_W), .ACT_AW(ACT_AW)) dut (
        .clk(clk), .rst(rst), .start(start), .halt(halt), .n_in(n_in), .has_bias(has_bias),
        .bias_act(bias_act), .rd_en(rd_en), .rd_addr(rd_addr), .rd_data(rd_data),
        .stall(stall), .pe_idle(pe_idle), .bcast(bcast), .bcast_act(bcast_act),
        .bcast_col(bcast_col), .active_o(active_o), .done(done));

    reg f_past_valid = 1'b0;
    always @(posedge clk) f_past_valid <= 1'b1;
    always @(*) if (!f_past_valid) assume(rst);

    // ---- the register files: slot j = g*N + k at bits j*ACT_W -------------------------------
    // (lookups are muxes: a variable part-select reads x past the end, which the AIGER
    // back end rejects)
    reg [SLOTS*ACT_W-1:0] f_acts;

    function [GW-1:0] f_group(input [ACT_AW-1:0] g);
        integer i;
        begin
            f_group = {GW{1'b0}};
            for (i = 0; i < (1 << ACT_AW); i = i + 1)
                if (g == i) f_group = f_acts[i*GW +: GW];
        end
    endfunction

    function [ACT_W-1:0] f_slot(input [COL_W-1:0] j);   // 0 past the last slot
        integer i;
        begin
            f_slot = {ACT_W{1'b0}};
            for (i = 0; i < SLOTS; i = i + 1)
                if (j == i) f_slot = f_acts[i*ACT_W +: ACT_W];
        end
    endfunction

    always @(posedge clk) begin
        if (start) f_acts <= f_new_acts;
        if (rd_en) rd_data <= f_group(rd_addr);
    end

    // ---- layers ------------------------------------------------------------------------------
    reg f_layer = 1'b0;   // between start and done / halt
    always @(posedge clk) begin
        if (rst || halt)  f_layer <= 1'b0;
        else if (start)   f_layer <= 1'b1;
        else if (done)    f_layer <= 1'b0;
    end

    always @(*) begin
        if (start) assume(!f_layer);
        if (start || f_layer) assume(n_in <= SLOTS);
    end
    always @(posedge clk) begin
        if (f_past_valid && f_layer)
            assume(n_in == $past(n_in) && has_bias == $past(has_bias)
                   && bias_act == $past(bias_act));
    end

    // ---- broadcasts ----------------------------------------------------------------------------
    wire             f_bias_due = has_bias && bias_act != {ACT_W{1'b0}};
    wire             f_is_bias  = bcast_col == n_in;
    wire [ACT_W-1:0] f_slot_act = f_slot(bcast_col);

    (* anyconst *) reg [COL_W-1:0] f_j;   // one followed slot
    reg             f_sent = 1'b0;         // something broadcast in this layer
    reg [COL_W-1:0] f_last;                // its last column
    reg             f_j_sent;
    reg             f_bias_sent;
    always @(*) assume(f_j < SLOTS);

    always @(posedge clk) begin
        if (start) begin
            f_sent      <= 1'b0;
            f_j_sent    <= 1'b0;
            f_bias_sent <= 1'b0;
        end else if (bcast) begin
            f_sent <= 1'b1;
            f_last <= bcast_col;
            if (f_is_bias)             f_bias_sent <= 1'b1;
            else if (bcast_col == f_j) f_j_sent    <= 1'b1;
        end
    end

    always @(*) begin
        if (f_past_valid) begin
            if (bcast) begin
                assert(f_layer && !stall);
                if (f_is_bias) assert(f_bias_due && bcast_act == bias_act);
                else assert(bcast_col < n_in && bcast_act == f_slot_act
                            && bcast_act != {ACT_W{1'b0}});
                if (f_sent) assert(bcast_col > f_last);
            end
            if (done) begin
                assert(f_layer && pe_idle);
                if (f_j < n_in && f_slot(f_j) != {ACT_W{1'b0}}) assert(f_j_sent);
                if (f_bias_due) assert(f_bias_sent);
            end
            if (rd_en) assert(f_layer && rd_addr * N < n_in);
        end
    end

    // ---- bounded liveness ----------------------------------------------------------------------
    reg [$clog2(K + 1):0] f_run = 0;   // consecutive unstalled cycles of this layer
    always @(posedge clk) begin
        if (!f_layer || start || halt || stall) f_run <= 0;
        else if (f_run <= K)                    f_run <= f_run + 1'b1;
    end
    always @(*) if (f_past_valid && f_layer && f_run >= K) assert(done == pe_idle);
endmodule

`default_nettype wire
