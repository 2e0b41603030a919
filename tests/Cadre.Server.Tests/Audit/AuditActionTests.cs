using Cadre.Server.Audit;
using Cadre.Server.Tests.Http;
using Cadre.Storage;

namespace Cadre.Server.Tests.Audit;

/// <summary>The action names entries carry: derived from endpoint names, stable, and present for every mutating endpoint.</summary>
public sealed class AuditActionTests
{
    [Theory]
    [InlineData("CreateWorkflow", "POST", "workflow.created", "workflow")]
    [InlineData("UpdateWorkflow", "PATCH", "workflow.updated", "workflow")]
    [InlineData("DeleteWorkflow", "DELETE", "workflow.deleted", "workflow")]
    [InlineData("StartRun", "POST", "run.started", "run")]
    [InlineData("HaltRun", "POST", "run.halted", "run")]
    [InlineData("RetryRun", "POST", "run.retried", "run")]
    [InlineData("DecideApproval", "POST", "approval.decided", "approval")]
    [InlineData("CreateServiceAccountApiKey", "POST", "api_key.created", "api_key")]
    [InlineData("CreateMyApiKey", "POST", "api_key.created", "api_key")]
    [InlineData("RevokeApiKey", "DELETE", "api_key.revoked", "api_key")]
    [InlineData("ExportPersonas", "GET", "persona.exported", "persona")]
    [InlineData("BulkDeletePersonas", "POST", "persona.bulk_deleted", "persona")]
    [InlineData("AddPersonaMemory", "POST", "persona_memory.added", "persona_memory")]
    [InlineData("RotateWebhookSubscriptionSecret", "POST", "webhook_subscription.secret_rotated", "webhook_subscription")]
    [InlineData("Login", "POST", "auth.signed_in", "user")]
    [InlineData("Frobnicate", "POST", "unnamed.post", null)]
    [InlineData(null, "DELETE", "unnamed.delete", null)]
    public void Derive_EndpointName_GivesTheAction(string? name, string method, string action, string? resourceType)
    {
        var derived = AuditActions.Derive(name, method);

        derived.Name.ShouldBe(action);
        derived.ResourceType.ShouldBe(resourceType);
    }

    [Fact]
    public async Task EveryMappedMutatingEndpoint_HasAnAction_AndReadsHaveNoneButTheAuditedOnes()
    {
        var app = await SharedApps.Get(DatabaseKind.Sqlite);
        var routes = EndpointCatalog.All(app);

        var unnamed = routes.Where(r => r.Method is "POST" or "PUT" or "PATCH" or "DELETE")
            .Where(r => AuditActions.For(r.Endpoint) is not { } action || action.Name.StartsWith(AuditActions.Unnamed, StringComparison.Ordinal))
            .Select(r => r.ToString()).ToList();
        var auditedReads = routes.Where(r => r.Method == "GET" && AuditActions.For(r.Endpoint) is not null).Select(r => r.Pattern).Order(StringComparer.Ordinal).ToList();

        unnamed.ShouldBeEmpty(string.Join('\n', unnamed));
        auditedReads.ShouldBe(
        [
            "/api/v1/admin/audit/export",
            "/api/v1/workspaces/{workspace}/audit/export",
            "/api/v1/workspaces/{workspace}/personas/export",
            "/api/v1/workspaces/{workspace}/workflows/export",
            "/api/v1/workspaces/{workspace}/workflows/{workflow}/export",
            "/api/v1/workspaces/{workspace}/workflows/{workflow}/webhook-token",
        ]);
    }
}
