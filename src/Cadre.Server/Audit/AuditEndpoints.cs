using Cadre.Audit;
using Cadre.Auth;
using Cadre.Common;
using Cadre.Server.Auth;
using Cadre.Server.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;

namespace Cadre.Server.Audit;

/// <summary>The filters of an audit list or export.</summary>
/// <param name="Actor">A user, service account or instance key ID, or the ID of the API key used.</param>
/// <param name="Action">An action (<c>workflow.created</c>) or a prefix ending in <c>*</c> (<c>workflow.*</c>).</param>
/// <param name="ResourceType">Such as <c>workflow</c>.</param>
/// <param name="ResourceId">The resource's ID (or, for an entry whose response carried none, the name its path gave).</param>
/// <param name="From">Entries at or after this instant (ISO-8601).</param>
/// <param name="To">Entries before this instant (ISO-8601).</param>
/// <param name="Status">An HTTP status (<c>201</c>) or class (<c>4xx</c>).</param>
public sealed record AuditListQuery(
    [FromQuery(Name = "actor")] string? Actor,
    [FromQuery(Name = "action")] string? Action,
    [FromQuery(Name = "resourceType")] string? ResourceType,
    [FromQuery(Name = "resourceId")] string? ResourceId,
    [FromQuery(Name = "from")] string? From,
    [FromQuery(Name = "to")] string? To,
    [FromQuery(Name = "status")] string? Status)
{
    internal AuditQuery ToQuery(string? workspace = null) => new(Actor, Action, ResourceType, ResourceId, From, To, Status, workspace);
}

/// <summary>The audit log: a workspace's (its admins) and the whole instance's (instance admins). Read-only: entries are never changed or deleted through the API.</summary>
internal static class AuditEndpoints
{
    private const string Filters = "Filters: `actor` (a user, service account or instance key ID, or an API key's ID), `action` (exact, or a prefix such as `workflow.*`), " +
        "`resourceType`, `resourceId`, `from` and `to` (ISO-8601; from inclusive, to exclusive), `status` (`201` or `4xx`). A bad filter is a 400.";

    public static IEndpointRouteBuilder MapAudit(this IEndpointRouteBuilder app)
    {
        // Who did what is an admin's business: it names people, keys and addresses, and shows every change.
        var workspace = app.MapGroup("/api/v1/workspaces/{workspace}/audit").WithTags("Audit");
        workspace.MapGet("/", List)
            .WithName("ListAuditLog").WithSummary("The workspace's audit log, newest first: who did what to which resource, when and from where")
            .WithDescription("One entry per change made through the API (every POST, PUT, PATCH and DELETE that succeeded), per export, per webhook intake, " +
                "and per refused attempt of a known caller (`access.denied`). " + Filters + " See docs/audit.md.")
            .RequireWorkspaceRole(WorkspaceRole.Admin).WithQueryErrors();
        workspace.MapGet("/export", Export)
            .WithName("ExportAuditLog").WithSummary("Download the workspace's audit log as NDJSON or CSV, oldest first, with the list's filters")
            .WithDescription("`format` is `ndjson` (default; one entry per line, as the list shows it) or `csv` (one flat row per entry, `details` as JSON). " +
                "Streamed. The export itself is recorded (`audit.exported`). " + Filters)
            .Produces<AuditEntryResponse>(StatusCodes.Status200OK, "application/x-ndjson").Produces<string>(StatusCodes.Status200OK, "text/csv")
            .RequireWorkspaceRole(WorkspaceRole.Admin).WithQueryErrors();

        var instance = app.MapGroup("/api/v1/admin/audit").WithTags("Audit");
        instance.MapGet("/", ListInstance)
            .WithName("ListInstanceAuditLog").WithSummary("The whole instance's audit log, newest first: instance-level entries and every workspace's")
            .WithDescription("`workspace` narrows it to one workspace (its ID, which also finds a deleted workspace's entries, or its name), or to " +
                "instance-level entries with `workspace=none` (sign-ins, accounts, workspaces created, the instance's keys). " + Filters)
            .RequireInstanceAdmin().WithQueryErrors();
        instance.MapGet("/export", ExportInstance)
            .WithName("ExportInstanceAuditLog").WithSummary("Download the instance's audit log as NDJSON or CSV, oldest first, with the list's filters")
            .WithDescription("As the workspace export, with the instance list's `workspace` filter. The export itself is recorded (`audit.exported`).")
            .Produces<AuditEntryResponse>(StatusCodes.Status200OK, "application/x-ndjson").Produces<string>(StatusCodes.Status200OK, "text/csv")
            .RequireInstanceAdmin().WithQueryErrors();
        return app;
    }

    private static Task<Results<Ok<PagedResponse<AuditEntryResponse>>, ProblemHttpResult>> List(
        [AsParameters] PageQuery page, [AsParameters] AuditListQuery query, WorkspaceAccess access, AuditLog audit, HttpRequest request, CancellationToken cancellationToken) =>
        Paging.PageAsync(page, request, p => audit.ListAsync(access.Workspace.Id, query.ToQuery(), p, cancellationToken));

    private static Task<Results<Ok<PagedResponse<AuditEntryResponse>>, ProblemHttpResult>> ListInstance(
        [AsParameters] PageQuery page, [AsParameters] AuditListQuery query, [FromQuery(Name = "workspace")] string? workspace, AuditLog audit,
        HttpRequest request, CancellationToken cancellationToken) =>
        Paging.PageAsync(page, request, p => audit.ListAsync(null, query.ToQuery(workspace), p, cancellationToken));

    private static Task<Results<AuditExportResult, ProblemHttpResult>> Export(
        [FromQuery(Name = "format")] string? format, [AsParameters] AuditListQuery query, WorkspaceAccess access, AuditLog audit,
        TimeProvider time, CancellationToken cancellationToken) =>
        ExportAsync(access.Workspace.Id, $"{access.Workspace.Name}-audit", format, query.ToQuery(), audit, time, cancellationToken);

    private static Task<Results<AuditExportResult, ProblemHttpResult>> ExportInstance(
        [FromQuery(Name = "format")] string? format, [AsParameters] AuditListQuery query, [FromQuery(Name = "workspace")] string? workspace, AuditLog audit,
        TimeProvider time, CancellationToken cancellationToken) =>
        ExportAsync(null, "cadre-audit", format, query.ToQuery(workspace), audit, time, cancellationToken);

    private static async Task<Results<AuditExportResult, ProblemHttpResult>> ExportAsync(
        string? workspaceId, string name, string? format, AuditQuery query, AuditLog audit, TimeProvider time, CancellationToken cancellationToken)
    {
        var errors = new ValidationErrors();
        format ??= AuditExportResult.Ndjson;
        if (!AuditExportResult.Formats.Contains(format, StringComparer.Ordinal))
        {
            errors.Add("format", $"Must be one of {string.Join(", ", AuditExportResult.Formats)}.");
        }

        if (await audit.ValidateAsync(workspaceId, query, cancellationToken) is { Errors: { } fields })
        {
            foreach (var (field, messages) in fields)
            {
                foreach (var message in messages)
                {
                    errors.Add(field, message);
                }
            }
        }

        if (!errors.IsEmpty)
        {
            return Problems.BadQuery(errors.ToDictionary());
        }

        var stamp = time.GetUtcNow().ToString("yyyyMMdd'T'HHmmss'Z'", System.Globalization.CultureInfo.InvariantCulture);
        // The result runs the queries while it writes, in the request's scope (the log is scoped to it).
        return new AuditExportResult(audit.ExportAsync(workspaceId, query, CancellationToken.None), format, $"{name}-{stamp}");
    }
}
