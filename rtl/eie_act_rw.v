// Activation read/write unit of one PE: the source and destination activation register files
// (ACT_DEPTH x ACT_W each, synchronous read) that swap roles between layers, and the output
// stage of a layer, chosen by MUL:
//   0, 1  linear activations (ACT_W = 16): re-quantization of an accumulator with the layer's
//         shift (rounding to nearest, ties away from zero), saturation to ACT_W bits, optional
//         ReLU (models.fixedpoint.requantize)
//   2     log activations packed {sign, zero, exp} (ACT_W = EA + 2): rtl/log_requant.v
//         (leading one, guard bit, ReLU, saturation; models.fixedpoint.log_requantize)
//
// Ports (all on the current roles, src_sel selects which file is the source):
//   in_*   write an input activation into the source file (first layer's input stream)
//   rd_*   read the source file (CCU broadcast, result stream); data one cycle after rd_en
//   wb_*   an accumulator of local row wb_addr: re-quantized and written to the destination file
//          (wb_q: the re-quantized value, combinational)
//   swap   exchange the roles (end of a layer); rst makes file 0 the source
`default_nettype none

module eie_act_rw #(
    parameter MUL       = 1,     // 2: log activations, else linear
    parameter EA        = 4,     // MUL = 2: exponent bits of a log activation
    parameter ACT_W     = 16,    // 16 (MUL 0, 1) or EA + 2 (MUL 2)
    parameter ACC_W     = 48,
    parameter ACT_DEPTH = 64,
    parameter ACT_AW    = 6
) (
    input  wire                    clk,
    input  wire                    rst,
    input  wire                    swap,
    input  wire                    in_we,
    input  wire [ACT_AW-1:0]       in_addr,
    input  wire [ACT_W-1:0]        in_data,
    input  wire                    rd_en,
    input  wire [ACT_AW-1:0]       rd_addr,
    output wire [ACT_W-1:0]        rd_data,
    input  wire                    wb_valid,
    input  wire [ACT_AW-1:0]       wb_addr,
    input  wire signed [ACC_W-1:0] wb_acc,
    input  wire [5:0]              shift,
    input  wire                    relu,
    output wire        [ACT_W-1:0] wb_q
);
    reg [ACT_W-1:0] rf0 [0:ACT_DEPTH-1];
    reg [ACT_W-1:0] rf1 [0:ACT_DEPTH-1];
    reg [ACT_W-1:0] rd0;
    reg [ACT_W-1:0] rd1;
    reg             src_sel;
    reg             rd_sel;

    generate
        if (MUL == 2) begin : g_log
            // ---- log output stage ------------------------------------------------------------
            log_requant #(.ACC_W(ACC_W), .EA(EA)) u_req (
                .acc(wb_acc), .shift(shift), .relu(relu), .q(wb_q));
            if (ACT_W != EA + 2) begin : g_bad_w
                eie_act_rw_parameter_error_ACT_W_must_be_EA_plus_2 u_error ();
            end
        end else begin : g_lin
            // ---- re-quantization: y = saturate(round_shift(acc, shift), ACT_W), then ReLU -----
            localparam RW = ACC_W + 1;
            wire signed [RW-1:0] one     = {{(RW - 1){1'b0}}, 1'b1};
            wire signed [RW-1:0] acc_x   = {wb_acc[ACC_W-1], wb_acc};
            wire                 no_rnd  = (shift == 6'd0);
            wire                 too_far = {26'd0, shift} > ACC_W;   // then round_shift gives 0
            wire signed [RW-1:0] half    = no_rnd ? {RW{1'b0}} : (one <<< (shift - 6'd1));
            wire signed [RW-1:0] bias    = no_rnd ? {RW{1'b0}}
                                         : half - {{(RW - 1){1'b0}}, wb_acc[ACC_W-1]};
            // (a separate net: inside a conditional with an unsigned operand >>> would shift
            // logically)
            wire signed [RW-1:0] sum     = acc_x + bias;
            wire signed [RW-1:0] shifted = sum >>> shift;
            wire signed [RW-1:0] rnd     = too_far ? {RW{1'b0}} : shifted;
            wire [RW-ACT_W:0]    top     = rnd[RW-1:ACT_W-1];
            wire                 fit     = (top == {(RW - ACT_W + 1){1'b0}})
                                        || (top == {(RW - ACT_W + 1){1'b1}});
            reg  [ACT_W-1:0]     y;

            always @(*) begin
                if (fit)            y = rnd[ACT_W-1:0];
                else if (rnd[RW-1]) y = {1'b1, {(ACT_W - 1){1'b0}}};
                else                y = {1'b0, {(ACT_W - 1){1'b1}}};
                if (relu && y[ACT_W-1]) y = {ACT_W{1'b0}};
            end
            assign wb_q = y;
        end
    endgenerate

    // ---- register files --------------------------------------------------------------------
    wire we0 = (in_we && !src_sel) || (wb_valid && src_sel);
    wire we1 = (in_we && src_sel)  || (wb_valid && !src_sel);
    wire [ACT_AW-1:0] wa0 = (in_we && !src_sel) ? in_addr : wb_addr;
    wire [ACT_AW-1:0] wa1 = (in_we && src_sel)  ? in_addr : wb_addr;
    wire [ACT_W-1:0]  wd0 = (in_we && !src_sel) ? in_data : wb_q;
    wire [ACT_W-1:0]  wd1 = (in_we && src_sel)  ? in_data : wb_q;

    always @(posedge clk) begin
        if (we0) rf0[wa0] <= wd0;
        if (rd_en && !src_sel) rd0 <= rf0[rd_addr];
    end

    always @(posedge clk) begin
        if (we1) rf1[wa1] <= wd1;
        if (rd_en && src_sel) rd1 <= rf1[rd_addr];
    end

    always @(posedge clk) begin
        if (rst) begin
            src_sel <= 1'b0;
            rd_sel  <= 1'b0;
        end else begin
            if (swap) src_sel <= !src_sel;
            if (rd_en) rd_sel <= src_sel;
        end
    end

    assign rd_data = rd_sel ? rd1 : rd0;
endmodule

`default_nettype wire
