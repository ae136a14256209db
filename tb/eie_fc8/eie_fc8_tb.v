// Test harness of the FC8 runs (tb/eie_fc8): eie_top with an input-stream player and a result
// recorder, so that a whole image streams in and its results are kept with no testbench code
// running per beat (cocotb writes the image into play_mem and reads rec_mem through VPI, once
// per image). With player_on low the engine's streams are the harness's own ports, as on
// eie_top, for cocotb's per-beat drivers.
//
// Player: from the start pulse, play_n words of play_mem on s_axis_act, in order, tlast on the
// last, each taken when the engine's tready is high; it stops when the engine drops busy (an
// aborted run). Recorder: every m_axis_res beat ({tlast, tuser, tdata}) into rec_mem, tready
// always high; rec_n counts them from the start pulse. rec_overflow rises when a beat finds
// rec_mem full (that beat is dropped, the run's results are incomplete).
`default_nettype none

module eie_fc8_tb #(
    parameter N_PE       = 64,
    parameter QDEPTH     = 8,
    parameter MUL        = 0,
    parameter ACT_DEPTH  = 64,
    parameter SPM_DEPTH  = 4096,
    parameter PTR_DEPTH  = 2049,
    parameter MAX_LAYERS = 1,
    parameter PLAY_DEPTH = 4096,   // input words one image can have
    parameter REC_DEPTH  = 1024    // result beats one run can have
) (
    input  wire         clk,
    input  wire         rst,
    input  wire         start,
    output wire         busy,
    output wire         done,
    output wire         error,
    output wire [3:0]   err_cause,
    output wire [7:0]   err_pe,
    input  wire         ld_valid,
    output wire         ld_ready,
    input  wire [2:0]   ld_sel,
    input  wire [7:0]   ld_pe,
    input  wire [23:0]  ld_addr,
    input  wire [63:0]  ld_data,
    input  wire [15:0]  s_axis_act_tdata,
    input  wire         s_axis_act_tvalid,
    output wire         s_axis_act_tready,
    input  wire         s_axis_act_tlast,
    output wire [15:0]  m_axis_res_tdata,
    output wire         m_axis_res_tvalid,
    input  wire         m_axis_res_tready,
    output wire         m_axis_res_tlast,
    output wire [15:0]  m_axis_res_tuser,
    input  wire [2:0]   cnt_sel,
    input  wire [7:0]   cnt_pe,
    output wire [31:0]  cnt_data,
    // player and recorder
    input  wire         player_on,
    input  wire [15:0]  play_n,
    output reg  [15:0]  rec_n,
    output reg          rec_overflow
);
    // written (play_mem) and read (rec_mem) by the testbench through VPI only
    reg [15:0] play_mem [0:PLAY_DEPTH-1] /*verilator public_flat_rw*/;
    reg [32:0] rec_mem  [0:REC_DEPTH-1]  /*verilator public_flat_rw*/;
    reg [15:0] play_idx;

    wire        act_tready, res_tvalid, res_tlast;
    wire [15:0] res_tdata, res_tuser;
    wire        play_valid = busy && (play_idx < play_n);
    wire        act_tvalid = player_on ? play_valid : s_axis_act_tvalid;
    wire [15:0] act_tdata  = player_on ? play_mem[play_idx[$clog2(PLAY_DEPTH)-1:0]]
                                       : s_axis_act_tdata;
    wire        act_tlast  = player_on ? (play_idx == play_n - 16'd1) : s_axis_act_tlast;
    wire        res_tready = player_on || m_axis_res_tready;

    assign s_axis_act_tready = act_tready;
    assign m_axis_res_tdata  = res_tdata;
    assign m_axis_res_tvalid = res_tvalid;
    assign m_axis_res_tlast  = res_tlast;
    assign m_axis_res_tuser  = res_tuser;

    always @(posedge clk) begin
        if (rst || start) begin
            play_idx     <= 16'd0;
            rec_n        <= 16'd0;
            rec_overflow <= 1'b0;
        end else begin
            if (player_on && play_valid && act_tready) play_idx <= play_idx + 16'd1;
            if (player_on && res_tvalid) begin
                if (rec_n < REC_DEPTH[15:0]) begin
                    rec_mem[rec_n[$clog2(REC_DEPTH)-1:0]] <= {res_tlast, res_tuser, res_tdata};
                    rec_n <= rec_n + 16'd1;
                end else begin
                    rec_overflow <= 1'b1;
                end
            end
        end
    end

    eie_top #(.N_PE(N_PE), .QDEPTH(QDEPTH), .MUL(MUL), .ACT_DEPTH(ACT_DEPTH),
              .SPM_DEPTH(SPM_DEPTH), .PTR_DEPTH(PTR_DEPTH), .MAX_LAYERS(MAX_LAYERS),
              .CNT_W(32)) u_top (
        .clk(clk), .rst(rst), .start(start), .busy(busy), .done(done), .error(error),
        .err_cause(err_cause), .err_pe(err_pe),
        .ld_valid(ld_valid), .ld_ready(ld_ready), .ld_sel(ld_sel), .ld_pe(ld_pe),
        .ld_addr(ld_addr), .ld_data(ld_data),
        .s_axis_act_tdata(act_tdata), .s_axis_act_tvalid(act_tvalid),
        .s_axis_act_tready(act_tready), .s_axis_act_tlast(act_tlast),
        .m_axis_res_tdata(res_tdata), .m_axis_res_tvalid(res_tvalid),
        .m_axis_res_tready(res_tready), .m_axis_res_tlast(res_tlast),
        .m_axis_res_tuser(res_tuser),
        .cnt_sel(cnt_sel), .cnt_pe(cnt_pe), .cnt_data(cnt_data)
    );
endmodule

`default_nettype wire
