using System.Runtime.CompilerServices;
using System.Text;

namespace Cadre.Server.Audit;

/// <summary>The action an audited endpoint records: a stable dotted name and the type of resource it is about.</summary>
/// <param name="Name">Such as <c>workflow.created</c>.</param>
/// <param name="ResourceType">Such as <c>workflow</c>; null when the action is about no resource in particular.</param>
public sealed record AuditAction(string Name, string? ResourceType);

/// <summary>
/// Which endpoints are audited and as what. Every POST, PUT, PATCH and DELETE is, plus the reads that
/// hand out data in bulk or a credential (<see cref="AuditedReads"/>). The action is derived from the
/// endpoint's name, <c>VerbNoun</c> → <c>noun.verbed</c> (<c>CreateWorkflow</c> → <c>workflow.created</c>,
/// <c>BulkDeletePersonas</c> → <c>persona.bulk_deleted</c>), except where <see cref="Overrides"/> names
/// one that reads better. An endpoint whose name does not derive (no name, an unknown verb) is
/// recorded as <c>unnamed.&lt;method&gt;</c>, and a test fails until it is given an action here.
/// </summary>
internal static class AuditActions
{
    public const string Unnamed = "unnamed";

    /// <summary>Sign-in refused (wrong password, locked, disabled): recorded although it failed.</summary>
    public const string SignInFailed = "auth.sign_in_failed";

    /// <summary>A known caller refused for its role (403): recorded with the action it attempted.</summary>
    public const string AccessDenied = "access.denied";

    private static readonly Dictionary<string, AuditAction> Overrides = new(StringComparer.Ordinal)
    {
        ["Login"] = new("auth.signed_in", "user"),
        ["Logout"] = new("auth.signed_out", "user"),
        ["ForgotPassword"] = new("auth.password_reset_requested", null),
        ["ResetPassword"] = new("auth.password_reset", null),
        ["ChangePassword"] = new("user.password_changed", "user"),
        ["CompleteSetup"] = new("setup.completed", "user"),
        ["UpdateMe"] = new("user.updated", "user"),
        ["IssuePasswordReset"] = new("user.password_reset_issued", "user"),
        ["CreateMyApiKey"] = new("api_key.created", "api_key"),
        ["RevokeMyApiKey"] = new("api_key.revoked", "api_key"),
        ["CreateServiceAccountApiKey"] = new("api_key.created", "api_key"),
        ["TransferOwnership"] = new("workspace.ownership_transferred", "workspace"),
        ["RotateWebhookSubscriptionSecret"] = new("webhook_subscription.secret_rotated", "webhook_subscription"),
        ["RedeliverWebhook"] = new("webhook_delivery.redelivered", "webhook_delivery"),
        ["ReceiveWebhook"] = new("webhook.received", "run"),
        ["RotateWorkflowWebhookToken"] = new("workflow.webhook_token_rotated", "workflow"),
        ["GetWorkflowWebhookToken"] = new("workflow.webhook_token_viewed", "workflow"),
        ["AnnotateWorkflowContext"] = new("workflow.annotated", "workflow"),
        ["InstallWorkflowSkill"] = new("workflow.skill_installed", "workflow"),
        ["RemoveWorkflowSkill"] = new("workflow.skill_removed", "workflow"),
        ["InstallPersonaSkill"] = new("persona.skill_installed", "persona"),
        ["RemovePersonaSkill"] = new("persona.skill_removed", "persona"),
        ["CreateFileUploadUrl"] = new("file.upload_url_created", "file"),
        ["SendRunMessage"] = new("run.message_sent", "run"),
        ["ExportAuditLog"] = new("audit.exported", null),
        ["ExportInstanceAuditLog"] = new("audit.exported", null),
    };

    /// <summary>GETs audited too: they hand out a workspace's definitions in bulk, the audit trail itself, or a credential.</summary>
    private static readonly HashSet<string> AuditedReads = new(StringComparer.Ordinal)
    {
        "ExportPersonas", "ExportWorkflows", "ExportWorkflow", "GetWorkflowWebhookToken", "ExportAuditLog", "ExportInstanceAuditLog",
    };

    private static readonly Dictionary<string, string> PastTenses = new(StringComparer.Ordinal)
    {
        ["Accept"] = "accepted", ["Activate"] = "activated", ["Add"] = "added", ["Annotate"] = "annotated", ["Change"] = "changed",
        ["Clear"] = "cleared", ["Complete"] = "completed", ["Create"] = "created", ["Deactivate"] = "deactivated", ["Decide"] = "decided",
        ["Delete"] = "deleted", ["Discard"] = "discarded", ["Duplicate"] = "duplicated", ["Export"] = "exported", ["Halt"] = "halted",
        ["Import"] = "imported", ["Ingest"] = "ingested", ["Install"] = "installed", ["Issue"] = "issued", ["Preview"] = "previewed",
        ["Publish"] = "published", ["Receive"] = "received", ["Redeliver"] = "redelivered", ["Remove"] = "removed", ["Rename"] = "renamed",
        ["Replay"] = "replayed", ["Rerun"] = "rerun", ["Reset"] = "reset", ["Restore"] = "restored", ["Resume"] = "resumed",
        ["Retry"] = "retried", ["Revert"] = "reverted", ["Revoke"] = "revoked", ["Rotate"] = "rotated", ["Send"] = "sent",
        ["Set"] = "set", ["Start"] = "started", ["Test"] = "tested", ["Transfer"] = "transferred", ["Update"] = "updated",
        ["Upload"] = "uploaded",
    };

    // Weak: an endpoint goes with its application (tests start many in one process).
    private static readonly ConditionalWeakTable<Endpoint, StrongBox<AuditAction?>> Cache = [];

    /// <summary>The action an endpoint records, or null for one not audited (reads, the OpenAPI document, probes).</summary>
    public static AuditAction? For(Endpoint? endpoint) =>
        endpoint is null ? null : Cache.GetValue(endpoint, static e =>
        {
            var method = e.Metadata.GetMetadata<HttpMethodMetadata>()?.HttpMethods is [var first, ..] ? first : "GET";
            var name = e.Metadata.GetMetadata<IEndpointNameMetadata>()?.EndpointName;
            var audited = method is "POST" or "PUT" or "PATCH" or "DELETE" || (name is not null && AuditedReads.Contains(name));
            return new StrongBox<AuditAction?>(audited ? Derive(name, method) : null);
        }).Value;

    /// <summary>The action for an endpoint name, or <c>unnamed.&lt;method&gt;</c> when it derives none.</summary>
    internal static AuditAction Derive(string? name, string method)
    {
        if (name is not null && Overrides.TryGetValue(name, out var fixedAction))
        {
            return fixedAction;
        }

        var words = name is null ? [] : Words(name);
        var bulk = words is ["Bulk", _, ..];
        if (bulk)
        {
            words = words[1..];
        }

        if (words.Count < 2 || !PastTenses.TryGetValue(words[0], out var past))
        {
            return new AuditAction($"{Unnamed}.{method.ToLowerInvariant()}", null);
        }

        var noun = string.Join('_', words.Skip(1).Select((word, i) => i == words.Count - 2 ? Singular(word) : word).Select(w => w.ToLowerInvariant()));
        return new AuditAction($"{noun}.{(bulk ? "bulk_" : "")}{past}", noun);
    }

    private static List<string> Words(string name)
    {
        var words = new List<string>();
        var current = new StringBuilder();
        foreach (var c in name)
        {
            if (char.IsUpper(c) && current.Length > 0)
            {
                words.Add(current.ToString());
                current.Clear();
            }

            current.Append(c);
        }

        if (current.Length > 0)
        {
            words.Add(current.ToString());
        }

        return words;
    }

    // Endpoint names are English plurals of simple nouns (Personas, Workflows): dropping the s is enough.
    private static string Singular(string word) => word.EndsWith('s') && !word.EndsWith("ss", StringComparison.Ordinal) ? word[..^1] : word;
}
