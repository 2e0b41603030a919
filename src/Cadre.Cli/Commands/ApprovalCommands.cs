using System.CommandLine;
using System.Text.Json.Nodes;
using Cadre.Cli.Api;

namespace Cadre.Cli.Commands;

/// <summary><c>cadre approvals approve|reject ID</c>: one decision on an approval a run waits for.</summary>
internal static class ApprovalCommands
{
    public static Command Approve() => Decide("approve", "Approve an approval a run waits for (as one of its approvers)");

    public static Command Reject() => Decide("reject", "Reject an approval: its step fails (approval_rejected) and the workflow's onFailure decides what follows");

    private static Command Decide(string decision, string description)
    {
        var id = new Argument<string>("approval") { Description = "The approval's ID (`cadre approvals list -F status=pending` lists them)" };
        var comment = new Option<string?>("--comment", "-m") { Description = "Why, kept with the decision" };
        var command = new Command(decision, description) { id, comment };
        command.Runs(async (session, parse, cancellationToken) =>
        {
            var approvalId = parse.GetValue(id)!;
            var body = new JsonObject { ["decision"] = decision, ["comment"] = parse.GetValue(comment) };
            var answer = await session.Api.SendAsync(HttpMethod.Post,
                $"{session.WorkspacePath}/approvals/{CadreApiClient.Segment(approvalId)}/decisions", body, cancellationToken) as JsonObject;
            await session.Printer.Messages.WriteLineAsync(Outcome(decision, approvalId, answer));
            session.Printer.Item(answer);
            return ExitCodes.Success;
        });
        return command;
    }

    /// <summary>What the decision did: settled the approval (and so the step), or counted towards its quorum.</summary>
    private static string Outcome(string decision, string id, JsonObject? approval)
    {
        var verb = decision == "approve" ? "Approved" : "Rejected";
        var run = approval?["runId"]?.ToString();
        var step = approval?["stepId"]?.ToString();
        return approval?["status"]?.ToString() switch
        {
            "approved" => $"{verb} {id}: the approval is approved, and step {step} of run {run} carries on.",
            "rejected" => $"{verb} {id}: the approval is rejected, and step {step} of run {run} fails (approval_rejected).",
            "pending" => $"{verb} {id}: your decision is recorded; the approval still waits for its quorum of {approval?["quorum"]}.",
            var status => $"{verb} {id}: the approval is {status}.",
        };
    }
}
