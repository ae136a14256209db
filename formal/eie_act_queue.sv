// Formal harness of the activation queue (rtl/eie_act_queue.v), at its ports only.
//
// A reference model by the documented rules (a push when full and a pop when empty are ignored,
// flush empties like rst) keeps the number of entries f_cnt, and the queue must agree:
//   count == f_cnt, full == (f_cnt == DEPTH), empty == (f_cnt == 0)
// so it never overflows or underflows and stalls (full) exactly when it holds DEPTH entries.
// Order and data, by the two-transaction argument: at any time the harness may mark an
// accepted push as A (value f_a, anyconst); the next accepted push is B (value f_b). A must
// reach the head after exactly the entries that were in the queue before it, with its value,
// and B must be the head right after A leaves. Holding for any two consecutive pushes, this
// is first-in first-out with every value intact.
`default_nettype none

module fv_eie_act_queue #(
    parameter DATA_W = 4,
    parameter DEPTH  = 4
) (
    input wire              clk,
    input wire              rst,
    input wire              flush,
    input wire              push,
    input wire [DATA_W-1:0] din,
    input wire              pop,
    input wire              f_mark   // free: this cycle's accepted push is A
);
    localparam CNT_W = $clog2(DEPTH + 1);

    wire [DATA_W-1:0] dout;
    wire              empty;
    wire              full;
    wire [CNT_W-1:0]  count;

    eie_act_queue #(.DATA_W(DATA_W), .DEPTH(DEPTH)) dut (
        .clk(clk), .rst(rst), .flush(flush), .push(push), .din(din), .pop(pop),
        .dout(dout), .empty(empty), .full(full), .count(count));

    reg f_past_valid = 1'b0;
    always @(posedge clk) f_past_valid <= 1'b1;
    always @(*) if (!f_past_valid) assume(rst);

    // ---- reference count -----------------------------------------------------------------
    reg  [CNT_W:0] f_cnt = 0;
    wire f_push = push && f_cnt != DEPTH;
    wire f_pop  = pop && f_cnt != 0;
    always @(posedge clk) begin
        if (rst || flush) f_cnt <= 0;
        else              f_cnt <= f_cnt + f_push - f_pop;
    end

    always @(*) begin
        if (f_past_valid) begin
            assert(count == f_cnt);
            assert(full == (f_cnt == DEPTH));
            assert(empty == (f_cnt == 0));
        end
    end

    // ---- two tracked consecutive pushes A, B ---------------------------------------------
    (* anyconst *) reg [DATA_W-1:0] f_a;
    (* anyconst *) reg [DATA_W-1:0] f_b;
    localparam [1:0] F_IDLE = 2'd0,   // nothing tracked
                     F_A    = 2'd1,   // A queued, B not pushed yet
                     F_AB   = 2'd2,   // A and B queued, B right behind A
                     F_B    = 2'd3;   // A left, B at the head
    reg [1:0]     f_st = F_IDLE;
    reg [CNT_W:0] f_ahead = 0;        // entries in front of A
    wire f_a_out = f_pop && f_ahead == 0;

    always @(*) begin
        if (f_st == F_IDLE && f_mark && f_push) assume(din == f_a);
        if (f_st == F_A && f_push) assume(din == f_b);
    end

    always @(posedge clk) begin
        if (rst || flush) begin
            f_st <= F_IDLE;
        end else begin
            case (f_st)
                F_IDLE: if (f_mark && f_push) begin
                    f_st    <= F_A;
                    f_ahead <= f_cnt - f_pop;
                end
                F_A: begin
                    if (f_a_out)     f_st <= f_push ? F_B : F_IDLE;
                    else if (f_push) f_st <= F_AB;
                    if (f_pop) f_ahead <= f_ahead - 1'b1;
                end
                F_AB: begin
                    if (f_a_out) f_st <= F_B;
                    if (f_pop) f_ahead <= f_ahead - 1'b1;
                end
                default: if (f_pop) f_st <= F_IDLE;   // F_B: B leaves
            endcase
        end
    end

    always @(*) begin
        if (f_past_valid) begin
            if ((f_st == F_A || f_st == F_AB) && f_ahead == 0) assert(!empty && dout == f_a);
            if (f_st == F_B) assert(!empty && dout == f_b);
        end
    end
endmodule

`default_nettype wire
