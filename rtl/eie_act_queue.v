// Activation queue of one PE: a FIFO of broadcast (activation, column) pairs, DEPTH entries
// (any DEPTH >= 1). Registered full/empty; the head is visible while not empty (show-ahead).
// A push when full or a pop when empty is ignored. flush empties it (synchronous, like rst).
`default_nettype none

module eie_act_queue #(
    parameter DATA_W = 32,
    parameter DEPTH  = 8
) (
    input  wire              clk,
    input  wire              rst,
    input  wire              flush,
    input  wire              push,
    input  wire [DATA_W-1:0] din,
    input  wire              pop,
    output wire [DATA_W-1:0] dout,
    output wire              empty,
    output wire              full,
    output reg  [CNT_W-1:0]  count
);
    localparam AW    = (DEPTH <= 1) ? 1 : $clog2(DEPTH);
    localparam CNT_W = $clog2(DEPTH + 1);

    reg [DATA_W-1:0] mem [0:DEPTH-1];
    reg [AW-1:0]     rd_ptr;
    reg [AW-1:0]     wr_ptr;

    wire do_push = push && !full;
    wire do_pop  = pop && !empty;

    assign empty = (count == {CNT_W{1'b0}});
    assign full  = (count == DEPTH[CNT_W-1:0]);
    assign dout  = mem[rd_ptr];

    function [AW-1:0] next_ptr(input [AW-1:0] p);
        next_ptr = (p == DEPTH[AW-1:0] - 1'b1 || DEPTH == 1) ? {AW{1'b0}} : p + 1'b1;
    endfunction

    always @(posedge clk) begin
        if (do_push) mem[wr_ptr] <= din;
    end

    always @(posedge clk) begin
        if (rst || flush) begin
            rd_ptr <= {AW{1'b0}};
            wr_ptr <= {AW{1'b0}};
            count  <= {CNT_W{1'b0}};
        end else begin
            if (do_push) wr_ptr <= next_ptr(wr_ptr);
            if (do_pop)  rd_ptr <= next_ptr(rd_ptr);
            if (do_push && !do_pop)      count <= count + 1'b1;
            else if (do_pop && !do_push) count <= count - 1'b1;
        end
    end
endmodule

`default_nettype wire
