using System.Text.Json.Nodes;
using Cadre.Auth;
using Cadre.Common;
using Cadre.Storage;
using Microsoft.EntityFrameworkCore;

namespace Cadre.Runs;

public sealed record ApprovalDecisionRequest(string? Decision, string? Comment);

public sealed record ApprovalDecisionResponse(string By, string Decision, string? Comment, DateTime At);

public sealed record ApprovalResponse(
    string Id,
    string RunId,
    string StepId,
    int Iteration,
    string Status,
    IReadOnlyList<string> Approvers,
    int Quorum,
    DateTime? Deadline,
    int Escalations,
    JsonNode? Summary,
    string? OutcomeReason,
    IReadOnlyList<ApprovalDecisionResponse> Decisions,
    DateTime CreatedAt,
    DateTime? DecidedAt);

/// <param name="Approver">A team, user or service-account ID, or <c>me</c>: the caller and the teams they are in.</param>
public sealed record ApprovalQuery(string? Status, string? Approver, string? Run);

/// <summary>The approval inbox and the decisions on it.</summary>
internal sealed class ApprovalService(CadreDbContext db, StorageProvider storage, RunEngine engine)
{
    public const int MaxCommentLength = 4000;

    public async Task<ServiceResult<Page<ApprovalResponse>>> ListAsync(string workspaceId, ApprovalQuery filter, Caller caller, PageRequest page, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(filter);
        ArgumentNullException.ThrowIfNull(caller);
        var query = db.Approvals.AsNoTracking().Where(a => a.WorkspaceId == workspaceId);
        if (filter.Status is { } status)
        {
            if (status is not ("pending" or "approved" or "rejected" or "expired" or "cancelled"))
            {
                return ServiceError.Validation("status", "Must be pending, approved, rejected, expired or cancelled.");
            }

            query = query.Where(a => a.Status == status);
        }

        if (filter.Approver is { } approver)
        {
            var ids = approver == "me" ? await IdentitiesAsync(workspaceId, caller.ActorId, cancellationToken) : [approver];
            query = query.Where(a => db.ApprovalApprovers.Any(x => x.ApprovalId == a.Id && ids.Contains(x.ApproverId)));
        }

        if (filter.Run is { } run)
        {
            query = query.Where(a => a.RunId == run);
        }

        var found = await query.ToPageAsync(a => a.Id, page, cancellationToken);
        var responses = new List<ApprovalResponse>();
        foreach (var approval in found.Items)
        {
            responses.Add(await ResponseAsync(approval, cancellationToken));
        }

        return new Page<ApprovalResponse>(responses, found.TotalCount, found.Next, found.Previous);
    }

    public async Task<ApprovalResponse?> GetAsync(string workspaceId, string approvalId, CancellationToken cancellationToken) =>
        await db.Approvals.AsNoTracking().FirstOrDefaultAsync(a => a.Id == approvalId && a.WorkspaceId == workspaceId, cancellationToken) is { } approval
            ? await ResponseAsync(approval, cancellationToken)
            : null;

    /// <summary>Records the caller's decision. Only a listed approver (directly or through a team) decides, once, while the approval is pending.</summary>
    public async Task<ServiceResult<ApprovalResponse>> DecideAsync(
        string workspaceId, string approvalId, ApprovalDecisionRequest request, Caller caller, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(caller);
        var errors = new ValidationErrors();
        if (request.Decision is not ("approve" or "reject"))
        {
            errors.Add("decision", "Must be approve or reject.");
        }

        if (request.Comment is { Length: > MaxCommentLength })
        {
            errors.Add("comment", $"Must be at most {MaxCommentLength} characters.");
        }

        if (!errors.IsEmpty)
        {
            return ServiceError.Validation(errors);
        }

        var approval = await db.Approvals.AsNoTracking().FirstOrDefaultAsync(a => a.Id == approvalId && a.WorkspaceId == workspaceId, cancellationToken);
        if (approval is null)
        {
            return ServiceError.NotFound($"Approval '{approvalId}' not found.");
        }

        var identities = await IdentitiesAsync(workspaceId, caller.ActorId, cancellationToken);
        if (!await db.ApprovalApprovers.AnyAsync(a => a.ApprovalId == approvalId && identities.Contains(a.ApproverId), cancellationToken))
        {
            return ServiceError.Forbidden("You are not one of this approval's approvers (directly or through a team).");
        }

        string? refused = null;
        try
        {
            await engine.CommitAsync(approval.RunId, async state =>
            {
                var tracked = await db.Approvals.FirstAsync(a => a.Id == approvalId, cancellationToken);
                refused = await engine.DecideAsync(state, tracked, caller.ActorId, request.Decision!, request.Comment, cancellationToken);
                return refused is null;
            }, cancellationToken);
        }
        catch (DbUpdateException ex) when (storage.IsUniqueViolation(ex))
        {
            // Two decisions of one person raced: the primary key (approval, person) refused the second.
            refused = "You have already decided on this approval; each approver decides once.";
        }

        return refused is not null
            ? ServiceError.Conflict(refused)
            : (await GetAsync(workspaceId, approvalId, cancellationToken))!;
    }

    /// <summary>The caller and the teams they belong to in the workspace: who an approver entry may name.</summary>
    private async Task<List<string>> IdentitiesAsync(string workspaceId, string actorId, CancellationToken cancellationToken)
    {
        var teams = await db.TeamMembers.AsNoTracking().Where(m => m.WorkspaceId == workspaceId && m.UserId == actorId).Select(m => m.TeamId).ToListAsync(cancellationToken);
        return [actorId, .. teams];
    }

    private async Task<ApprovalResponse> ResponseAsync(Approval approval, CancellationToken cancellationToken)
    {
        var approvers = await db.ApprovalApprovers.AsNoTracking().Where(a => a.ApprovalId == approval.Id).Select(a => a.ApproverId).OrderBy(a => a).ToListAsync(cancellationToken);
        var decisions = await db.ApprovalDecisions.AsNoTracking().Where(d => d.ApprovalId == approval.Id).OrderBy(d => d.CreatedAt).ToListAsync(cancellationToken);
        return new ApprovalResponse(
            approval.Id, approval.RunId, approval.StepId, approval.Iteration, approval.Status, approvers, approval.Quorum, approval.Deadline, approval.Escalations,
            RunState.Parse(approval.Summary), approval.OutcomeReason,
            [.. decisions.Select(d => new ApprovalDecisionResponse(d.UserId, d.Decision, d.Comment, d.CreatedAt))],
            approval.CreatedAt, approval.DecidedAt);
    }
}
