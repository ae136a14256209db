// Test fixture of tb/eie_lib/protocol.py: eie_top's stream and status ports, every output a
// register loaded at each rising edge from the matching nxt_* input, so that a cocotb test can
// make the outputs do anything (protocol violations, X on Icarus) with eie_top's timing.
`default_nettype none

module eie_protocol_stub (
    input  wire        clk,
    input  wire        rst,
    // what the outputs become at the next rising edge
    input  wire        nxt_busy,
    input  wire        nxt_done,
    input  wire        nxt_error,
    input  wire [3:0]  nxt_err_cause,
    input  wire [7:0]  nxt_err_pe,
    input  wire        nxt_ld_ready,
    input  wire        nxt_act_tready,
    input  wire [15:0] nxt_res_tdata,
    input  wire        nxt_res_tvalid,
    input  wire        nxt_res_tlast,
    input  wire [15:0] nxt_res_tuser,
    // eie_top's ports
    output reg         busy,
    output reg         done,
    output reg         error,
    output reg  [3:0]  err_cause,
    output reg  [7:0]  err_pe,
    output reg         ld_ready,
    input  wire [15:0] s_axis_act_tdata,
    input  wire        s_axis_act_tvalid,
    output reg         s_axis_act_tready,
    input  wire        s_axis_act_tlast,
    output reg  [15:0] m_axis_res_tdata,
    output reg         m_axis_res_tvalid,
    input  wire        m_axis_res_tready,
    output reg         m_axis_res_tlast,
    output reg  [15:0] m_axis_res_tuser
);
    always @(posedge clk) begin
        if (rst) begin
            busy              <= 1'b0;
            done              <= 1'b0;
            error             <= 1'b0;
            err_cause         <= 4'd0;
            err_pe            <= 8'd0;
            ld_ready          <= 1'b1;
            s_axis_act_tready <= 1'b0;
            m_axis_res_tdata  <= 16'd0;
            m_axis_res_tvalid <= 1'b0;
            m_axis_res_tlast  <= 1'b0;
            m_axis_res_tuser  <= 16'd0;
        end else begin
            busy              <= nxt_busy;
            done              <= nxt_done;
            error             <= nxt_error;
            err_cause         <= nxt_err_cause;
            err_pe            <= nxt_err_pe;
            ld_ready          <= nxt_ld_ready;
            s_axis_act_tready <= nxt_act_tready;
            m_axis_res_tdata  <= nxt_res_tdata;
            m_axis_res_tvalid <= nxt_res_tvalid;
            m_axis_res_tlast  <= nxt_res_tlast;
            m_axis_res_tuser  <= nxt_res_tuser;
        end
    end

    // the testbench's inputs are only read by the monitors, from the ports
    wire unused_ok = &{1'b0, s_axis_act_tdata, s_axis_act_tvalid, s_axis_act_tlast,
                       m_axis_res_tready};
endmodule

`default_nettype wire
