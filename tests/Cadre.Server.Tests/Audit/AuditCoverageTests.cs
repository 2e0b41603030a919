using System.Net;
using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Cadre.Server.Audit;
using Cadre.Server.Tests.Files;
using Cadre.Server.Tests.Personas;
using Cadre.Server.Tests.Runs;
using Cadre.Server.Tests.Workflows;
using Cadre.Setup;
using Cadre.Storage;
using Microsoft.Extensions.DependencyInjection;

namespace Cadre.Server.Tests.Audit;

/// <summary>
/// The audit log's bar: every mutating operation of the OpenAPI document (and the audited exports)
/// leaves an entry. One valid, successful request per operation, made by a known actor on a fresh
/// instance (the setup code works only once), then each is looked up in the instance's export.
/// </summary>
public sealed partial class AuditCoverageTests
{
    private static readonly string[] AuditedReads = ["ExportPersonas", "ExportWorkflows", "ExportWorkflow", "GetWorkflowWebhookToken", "ExportAuditLog", "ExportInstanceAuditLog"];

    [Theory, AllDatabases]
    public async Task EveryMutatingOperation_LeavesAnEntryNamingActorActionResourceAndAddress(DatabaseKind db)
    {
        await using var app = await CadreApp.StartAsync(db, new Dictionary<string, string?>(EngineApps.Settings) { ["Cadre:Webhooks:PollInterval"] = "00:00:00.050" });
        await using var receiver = await FakeHttpServer.StartAsync(_ => Task.CompletedTask);
        var run = new CoverageRun(app);
        await run.ExerciseAsync(receiver.Address);

        using var admin = app.AdminClient();
        var document = await (await admin.GetAsync("/openapi/v1.json")).ReadObjectAsync();
        var operations = Operations(document).ToList();
        operations.Count.ShouldBeGreaterThan(100);
        var exported = await admin.GetAsync("/api/v1/admin/audit/export?format=ndjson");
        await exported.ShouldBeAsync(HttpStatusCode.OK);
        run.Expect("ExportInstanceAuditLog", "GET", "/api/v1/admin/audit/export", actorKind: "instance_key");
        var entries = (await exported.Content.ReadAsStringAsync()).Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(line => JsonNode.Parse(line)!.AsObject()).ToList();

        var failures = new List<string>();
        foreach (var (method, template, id) in operations)
        {
            var made = run.Made.Where(m => m.OperationId == id).ToList();
            if (made.Count == 0)
            {
                failures.Add($"{id} ({method} {template}): the test makes no request of it; add one to CoverageRun");
                continue;
            }

            var action = AuditActions.Derive(id, method).Name;
            if (action.StartsWith(AuditActions.Unnamed, StringComparison.Ordinal))
            {
                failures.Add($"{id} ({method} {template}): no audit action; name the endpoint VerbNoun or add it to AuditActions' overrides");
            }

            foreach (var request in made)
            {
                if (Matching(entries, request, action) is { } problem)
                {
                    failures.Add($"{id} ({request.Method} {request.Path}): {problem}");
                }
            }
        }

        foreach (var stale in run.Made.Select(m => m.OperationId).Distinct().Except(operations.Select(o => o.Id)))
        {
            failures.Add($"{stale}: made by the test but not in the OpenAPI document");
        }

        failures.ShouldBeEmpty(string.Join('\n', failures));
    }

    /// <summary>Null when an entry matches the request in every respect, else what is wrong.</summary>
    private static string? Matching(List<JsonObject> entries, Made request, string action)
    {
        var candidates = entries.Where(e => (string)e["request"]!["method"]! == request.Method && (string)e["request"]!["path"]! == request.Path).ToList();
        if (candidates.Count == 0)
        {
            return "no entry for this method and path";
        }

        // The same method and path may have been called more than once: any entry that matches in full will do.
        var problems = candidates.Select(e => Mismatch(e, request, action)).ToList();
        return problems.Contains(null) ? null : string.Join("; ", problems.Distinct());
    }

    private static string? Mismatch(JsonObject entry, Made request, string action)
    {
        if ((string)entry["action"]! != action)
        {
            return $"action {entry["action"]}, expected {action}";
        }

        var actor = entry["actor"]!;
        if (request.ActorKind != (string)actor["kind"]! || (request.ActorId is not null && request.ActorId != (string?)actor["id"]))
        {
            return $"actor {actor.ToJsonString()}, expected {request.ActorKind} {request.ActorId}";
        }

        if (request.ResourceId is not null && (string?)entry["resource"]?["id"] != request.ResourceId)
        {
            return $"resource {entry["resource"]?.ToJsonString()}, expected {request.ResourceId}";
        }

        if (request.WorkspaceId is not null && (string?)entry["workspaceId"] != request.WorkspaceId)
        {
            return $"workspace {entry["workspaceId"]}, expected {request.WorkspaceId}";
        }

        if ((string?)entry["request"]!["clientIp"] is not ("127.0.0.1" or "::ffff:127.0.0.1"))
        {
            return $"client address {entry["request"]!["clientIp"]}";
        }

        return (int)entry["request"]!["status"]! == request.Status ? null : $"status {entry["request"]!["status"]}, expected {request.Status}";
    }

    private static IEnumerable<(string Method, string Path, string Id)> Operations(JsonObject document)
    {
        foreach (var (path, item) in document["paths"]!.AsObject())
        {
            foreach (var (method, operation) in item!.AsObject())
            {
                var upper = method.ToUpperInvariant();
                if (operation?["operationId"] is { } id && (upper is "POST" or "PUT" or "PATCH" or "DELETE" || AuditedReads.Contains((string)id!)))
                {
                    yield return (upper, path, (string)id!);
                }
            }
        }
    }

    internal sealed record Made(string OperationId, string Method, string Path, string ActorKind, string? ActorId, string? ResourceId, string? WorkspaceId, int Status);

    [GeneratedRegex(@"/reset-password\?token=(?<token>[A-Za-z0-9]+)")]
    private static partial Regex ResetLink();

    /// <summary>Makes one successful request of every audited operation, remembering what each entry must say.</summary>
    private sealed class CoverageRun(CadreApp app)
    {
        public List<Made> Made { get; } = [];

        public void Expect(string operationId, string method, string path, string actorKind, string? actorId = null, string? resourceId = null, string? workspaceId = null, int status = 200) =>
            Made.Add(new Made(operationId, method, path, actorKind, actorId, resourceId, workspaceId, status));

        /// <summary>Sends a request that must succeed, and expects its entry: by default the response's <c>id</c> is the resource.</summary>
        private async Task<JsonObject> DoAsync(
            string operationId, HttpClient client, string method, string path, object? body, (string Kind, string? Id) actor,
            string? resourceId = null, string? workspaceId = null, HttpContent? content = null, string? recordedPath = null)
        {
            using var request = new HttpRequestMessage(new HttpMethod(method), path) { Content = content ?? (body is null ? null : Api.JsonContent(body)) };
            var response = await client.SendAsync(request);
            var text = await response.Content.ReadAsStringAsync();
            ((int)response.StatusCode).ShouldBeLessThan(400, $"{operationId}: {method} {path} → {(int)response.StatusCode} {text}");
            var json = text.StartsWith('{') ? JsonNode.Parse(text)!.AsObject() : new JsonObject();
            resourceId ??= json["id"] is JsonValue id && id.TryGetValue<string>(out var value) ? value : null;
            Expect(operationId, method, recordedPath ?? path.Split('?')[0], actor.Kind, actor.Id, resourceId, workspaceId, (int)response.StatusCode);
            return json;
        }

        public async Task ExerciseAsync(Uri receiver)
        {
            using var admin = app.AdminClient();
            var adminActor = ("instance_key", (string?)null);

            // People, sign-in and the instance.
            var code = app.Services.GetRequiredService<StartupReport>().SetupCode!;
            var (ownerClient, _) = app.BrowserClient();
            using var _owner = ownerClient;
            var setup = await DoAsync("CompleteSetup", ownerClient, "POST", "/api/v1/setup",
                new { code, email = "owner@example.com", displayName = "Owner", password = PeopleApi.Password }, ("user", null));
            var ownerId = (string)setup["user"]!["id"]!;
            Made[^1] = Made[^1] with { ActorId = ownerId, ResourceId = ownerId };
            var owner = new TestUser(ownerId, "owner@example.com", PeopleApi.Password);
            var (signInClient, _) = app.BrowserClient();
            using var _signIn = signInClient;
            var signedIn = await DoAsync("Login", signInClient, "POST", "/api/v1/auth/login", new { email = owner.Email, password = owner.Password }, ("user", ownerId), ownerId);
            signInClient.DefaultRequestHeaders.Add("X-CSRF-Token", (string)signedIn["csrfToken"]!);
            var me = ("user", (string?)ownerId);
            await DoAsync("UpdateMe", signInClient, "PATCH", "/api/v1/me", new { displayName = "The Owner" }, me, ownerId);
            var myKey = await DoAsync("CreateMyApiKey", signInClient, "POST", "/api/v1/me/api-keys", new { name = "laptop" }, me);
            await DoAsync("RevokeMyApiKey", signInClient, "DELETE", $"/api/v1/me/api-keys/{myKey["id"]}", null, me, (string)myKey["id"]!);

            var user = await DoAsync("CreateUser", admin, "POST", "/api/v1/users", new { email = "ada@example.com", displayName = "Ada", password = PeopleApi.Password }, adminActor);
            var userId = (string)user["id"]!;
            await DoAsync("UpdateUser", admin, "PATCH", $"/api/v1/users/{userId}", new { displayName = "Ada L." }, adminActor, userId);
            var link = await DoAsync("IssuePasswordReset", admin, "POST", $"/api/v1/users/{userId}/password-reset", null, adminActor, userId);
            using var anonymous = app.Client();
            var nobody = ("anonymous", (string?)null);
            await DoAsync("ResetPassword", anonymous, "POST", "/api/v1/auth/reset-password",
                new { token = ResetLink().Match((string)link["link"]!).Groups["token"].Value, password = "another long passphrase" }, nobody);
            await DoAsync("ForgotPassword", anonymous, "POST", "/api/v1/auth/forgot-password", new { email = "ada@example.com" }, nobody);
            await DoAsync("RotateEncryptionKey", admin, "POST", "/api/v1/admin/encryption/rotate", null, adminActor);

            // A workspace and the accounts that act in it.
            var created = await DoAsync("CreateWorkspace", admin, "POST", "/api/v1/workspaces", new { name = "audited" }, adminActor);
            var ws = (string)created["id"]!;
            Made[^1] = Made[^1] with { WorkspaceId = ws };
            var w = "/api/v1/workspaces/audited";
            await DoAsync("UpdateWorkspace", admin, "PATCH", w, new { displayName = "Audited Inc" }, adminActor, ws, ws);
            var account = await DoAsync("CreateServiceAccount", admin, "POST", $"{w}/service-accounts", new { name = "ci", role = "owner" }, adminActor, workspaceId: ws);
            var accountId = (string)account["id"]!;
            var key = await DoAsync("CreateServiceAccountApiKey", admin, "POST", $"{w}/service-accounts/{accountId}/api-keys", new { name = "deploys" }, adminActor, workspaceId: ws);
            using var o = app.Client((string)key["key"]!);
            var sa = ("service_account", (string?)accountId);
            var spare = await DoAsync("CreateServiceAccount", o, "POST", $"{w}/service-accounts", new { name = "spare", role = "viewer" }, sa, workspaceId: ws);
            var spareId = (string)spare["id"]!;
            await DoAsync("UpdateServiceAccount", o, "PATCH", $"{w}/service-accounts/{spareId}", new { description = "Spare." }, sa, spareId, ws);
            var spareKey = await DoAsync("CreateServiceAccountApiKey", o, "POST", $"{w}/service-accounts/{spareId}/api-keys", new { name = "spare key" }, sa, workspaceId: ws);
            await DoAsync("RevokeApiKey", o, "DELETE", $"{w}/api-keys/{spareKey["id"]}", null, sa, (string)spareKey["id"]!, ws);
            await DoAsync("DeleteServiceAccount", o, "DELETE", $"{w}/service-accounts/{spareId}", null, sa, spareId, ws);
            await DoAsync("AddMember", o, "POST", $"{w}/members", new { userId, role = "viewer" }, sa, workspaceId: ws);
            await DoAsync("UpdateMember", o, "PATCH", $"{w}/members/{userId}", new { role = "editor" }, sa, workspaceId: ws);
            var team = await DoAsync("CreateTeam", o, "POST", $"{w}/teams", new { name = "approvers" }, sa, workspaceId: ws);
            var teamId = (string)team["id"]!;
            await DoAsync("UpdateTeam", o, "PATCH", $"{w}/teams/{teamId}", new { description = "Sign-offs." }, sa, teamId, ws);
            await DoAsync("AddTeamMember", o, "PUT", $"{w}/teams/{teamId}/members/{userId}", null, sa, workspaceId: ws);
            await DoAsync("RemoveTeamMember", o, "DELETE", $"{w}/teams/{teamId}/members/{userId}", null, sa, workspaceId: ws);
            await DoAsync("DeleteTeam", o, "DELETE", $"{w}/teams/{teamId}", null, sa, teamId, ws);
            var invitation = await DoAsync("CreateInvitation", o, "POST", $"{w}/invitations", new { email = "grace@example.com", role = "viewer" }, sa, workspaceId: ws);
            var revoked = await DoAsync("CreateInvitation", o, "POST", $"{w}/invitations", new { email = "eve@example.com", role = "viewer" }, sa, workspaceId: ws);
            await DoAsync("RevokeInvitation", o, "DELETE", $"{w}/invitations/{revoked["id"]}", null, sa, (string)revoked["id"]!, ws);
            await DoAsync("PreviewInvitation", anonymous, "POST", "/api/v1/invitations/preview", new { token = (string)invitation["token"]! }, nobody);
            // Accepting with a new account signs it in: the new person is the actor.
            using var grace = app.Client();
            var accepted = await DoAsync("AcceptInvitation", grace, "POST", "/api/v1/invitations/accept",
                new { token = (string)invitation["token"]!, displayName = "Grace", password = PeopleApi.Password }, ("user", null));
            Made[^1] = Made[^1] with { ActorId = (string)accepted["user"]!["id"]! };
            await DoAsync("RemoveMember", o, "DELETE", $"{w}/members/{accepted["user"]!["id"]}", null, sa, (string)accepted["user"]!["id"]!, ws);

            // Secrets, models and their registries.
            var secret = await DoAsync("CreateSecret", o, "POST", $"{w}/secrets", new { name = "API_TOKEN", value = "v1-secret-value" }, sa, workspaceId: ws);
            await DoAsync("UpdateSecret", o, "PATCH", $"{w}/secrets/API_TOKEN", new { value = "v2-secret-value" }, sa, (string)secret["id"]!, ws);
            await DoAsync("DeleteSecret", o, "DELETE", $"{w}/secrets/API_TOKEN", null, sa, "API_TOKEN", ws);
            await DoAsync("CreateProvider", o, "POST", $"{w}/providers", new { name = "local", kind = "mock" }, sa, workspaceId: ws);
            await DoAsync("UpdateProvider", o, "PATCH", $"{w}/providers/local", new { maxRetries = 1 }, sa, workspaceId: ws);
            await DoAsync("TestProvider", o, "POST", $"{w}/providers/local/test", new { model = "echo" }, sa, workspaceId: ws);
            await DoAsync("DeleteProvider", o, "DELETE", $"{w}/providers/local", null, sa, "local", ws);
            await DoAsync("SetPrice", o, "PUT", $"{w}/prices/acme/model-1", new { input = 1.5, output = 2 }, sa, workspaceId: ws);
            await DoAsync("DeletePrice", o, "DELETE", $"{w}/prices/acme/model-1", null, sa, "acme/model-1", ws);
            await DoAsync("CreateGuardrail", o, "POST", $"{w}/guardrails", new { name = "no-pii", kind = "pii", action = "redact" }, sa, workspaceId: ws);
            await DoAsync("UpdateGuardrail", o, "PATCH", $"{w}/guardrails/no-pii", new { description = "Hides addresses." }, sa, workspaceId: ws);
            await DoAsync("DeleteGuardrail", o, "DELETE", $"{w}/guardrails/no-pii", null, sa, "no-pii", ws);
            var skill = new
            {
                name = "get_weather", kind = "http", description = "The weather in a city.",
                config = new { method = "GET", url = "https://weather.example.com/?city={{ args.city }}", parameters = new { type = "object", properties = new { city = new { type = "string" } } } },
            };
            await DoAsync("CreateSkill", o, "POST", $"{w}/skills", skill, sa, workspaceId: ws);
            await DoAsync("UpdateSkill", o, "PATCH", $"{w}/skills/get_weather", new { description = "Today's weather." }, sa, workspaceId: ws);
            await DoAsync("CreateEventType", o, "POST", $"{w}/event-types", new { name = "order.paid" }, sa, workspaceId: ws);
            await DoAsync("CreateEventType", o, "POST", $"{w}/event-types", new { name = "order.lost" }, sa, workspaceId: ws);
            await DoAsync("UpdateEventType", o, "PATCH", $"{w}/event-types/order.paid", new { description = "Money came in." }, sa, workspaceId: ws);
            await DoAsync("DeleteEventType", o, "DELETE", $"{w}/event-types/order.lost", null, sa, "order.lost", ws);

            // Personas.
            var persona = await DoAsync("CreatePersona", o, "POST", $"{w}/personas", PersonaApi.Body("helper"), sa, workspaceId: ws);
            var personaId = (string)persona["id"]!;
            await DoAsync("UpdatePersona", o, "PATCH", $"{w}/personas/helper", new { description = "Helps." }, sa, personaId, ws);
            await DoAsync("RevertPersona", o, "POST", $"{w}/personas/helper/revert", new { version = 1 }, sa, personaId, ws);
            await DoAsync("PreviewPersona", o, "POST", $"{w}/personas/helper/preview", new { }, sa, "helper", ws);
            var copy = (string)(await DoAsync("DuplicatePersona", o, "POST", $"{w}/personas/helper/duplicate", new { name = "helper-copy" }, sa, workspaceId: ws))["id"]!;
            await DoAsync("DeletePersona", o, "DELETE", $"{w}/personas/helper-copy", null, sa, copy, ws);
            await DoAsync("RestorePersona", o, "POST", $"{w}/personas/{copy}/restore", null, sa, copy, ws);
            await DoAsync("StartPersonaDraft", o, "POST", $"{w}/personas/helper/draft", null, sa, workspaceId: ws);
            await DoAsync("UpdatePersonaDraft", o, "PATCH", $"{w}/personas/helper/draft", new { expectedVersion = 1, changes = new { description = "Drafted." } }, sa, workspaceId: ws);
            await DoAsync("PublishPersonaDraft", o, "POST", $"{w}/personas/helper/draft/publish", null, sa, personaId, ws);
            await DoAsync("StartPersonaDraft", o, "POST", $"{w}/personas/helper/draft", null, sa, workspaceId: ws);
            await DoAsync("DiscardPersonaDraft", o, "DELETE", $"{w}/personas/helper/draft", null, sa, "helper", ws);
            await DoAsync("InstallPersonaSkill", o, "POST", $"{w}/personas/helper/skills/get_weather", null, sa, personaId, ws);
            await DoAsync("RemovePersonaSkill", o, "DELETE", $"{w}/personas/helper/skills/get_weather", null, sa, personaId, ws);
            await DoAsync("DeleteSkill", o, "DELETE", $"{w}/skills/get_weather", null, sa, "get_weather", ws);
            var note = await DoAsync("AddPersonaMemory", o, "POST", $"{w}/personas/helper/memory", new { content = "Prefers email." }, sa, workspaceId: ws);
            await DoAsync("UpdatePersonaMemory", o, "PATCH", $"{w}/personas/helper/memory/{note["id"]}", new { content = "Prefers phone." }, sa, workspaceId: ws);
            await DoAsync("DeletePersonaMemory", o, "DELETE", $"{w}/personas/helper/memory/{note["id"]}", null, sa, (string)note["id"]!, ws);
            await DoAsync("ClearPersonaMemory", o, "DELETE", $"{w}/personas/helper/memory", null, sa, "helper", ws);
            await DoAsync("BulkCreatePersonas", o, "POST", $"{w}/personas/bulk-create", new { items = new[] { PersonaApi.Body("bulk-one"), PersonaApi.Body("bulk-two") } }, sa, workspaceId: ws);
            await DoAsync("BulkUpdatePersonas", o, "POST", $"{w}/personas/bulk-update", new { items = new[] { new { persona = "bulk-one", changes = new { description = "Bulk." } } } }, sa, workspaceId: ws);
            await DoAsync("BulkDeletePersonas", o, "POST", $"{w}/personas/bulk-delete", new { items = new[] { "bulk-one", "bulk-two" } }, sa, workspaceId: ws);
            await DoAsync("ImportPersonas", o, "POST", $"{w}/personas/import", new[] { PersonaApi.Body("imported") }, sa, workspaceId: ws);
            await DoAsync("ExportPersonas", o, "GET", $"{w}/personas/export?format=csv", null, sa, workspaceId: ws);

            // Workflows.
            var quick = WorkflowApi.Body("quick");
            quick["steps"] = JsonNode.Parse("""[{"id": "only", "activity": {"uniqueIdentifier": "transform"}, "input": {"n": "{{ context.body.n ?? 1 }}"}}]""");
            var workflow = await DoAsync("CreateWorkflow", o, "POST", $"{w}/workflows", quick, sa, workspaceId: ws);
            var workflowId = (string)workflow["id"]!;
            await DoAsync("UpdateWorkflow", o, "PATCH", $"{w}/workflows/quick", new { description = "Quick." }, sa, workflowId, ws);
            await DoAsync("RevertWorkflow", o, "POST", $"{w}/workflows/quick/revert", new { version = 1 }, sa, workflowId, ws);
            await DoAsync("AnnotateWorkflowContext", o, "POST", $"{w}/workflows/quick/annotate", new { context = new { } }, sa, "quick", ws);
            var quickCopy = (string)(await DoAsync("DuplicateWorkflow", o, "POST", $"{w}/workflows/quick/duplicate", new { name = "quick-copy" }, sa, workspaceId: ws))["id"]!;
            await DoAsync("RenameWorkflow", o, "POST", $"{w}/workflows/quick-copy/rename", new { name = "quick-two" }, sa, quickCopy, ws);
            await DoAsync("DeleteWorkflow", o, "DELETE", $"{w}/workflows/quick-two", null, sa, quickCopy, ws);
            await DoAsync("RestoreWorkflow", o, "POST", $"{w}/workflows/{quickCopy}/restore", null, sa, quickCopy, ws);
            await DoAsync("BulkDeleteWorkflows", o, "POST", $"{w}/workflows/bulk-delete", new { items = new[] { "quick-two" } }, sa, workspaceId: ws);
            await DoAsync("ImportWorkflows", o, "POST", $"{w}/workflows/import", new[] { WorkflowApi.Body("imported-flow") }, sa, workspaceId: ws);
            await DoAsync("ExportWorkflows", o, "GET", $"{w}/workflows/export", null, sa, workspaceId: ws);
            await DoAsync("ExportWorkflow", o, "GET", $"{w}/workflows/quick/export?format=yaml", null, sa, "quick", ws);
            var agent = WorkflowApi.Body("agentic");
            agent["steps"] = JsonNode.Parse("""[{"id": "chat", "activity": {"uniqueIdentifier": "agent"}, "input": {"model": {"provider": "mock", "model": "echo"}, "prompt": "{{ context.prompt }}", "session": true}}]""");
            var agentic = await DoAsync("CreateWorkflow", o, "POST", $"{w}/workflows", agent, sa, workspaceId: ws);
            await DoAsync("InstallWorkflowSkill", o, "POST", $"{w}/workflows/agentic/skills/current_time", null, sa, (string)agentic["id"]!, ws);
            await DoAsync("RemoveWorkflowSkill", o, "DELETE", $"{w}/workflows/agentic/skills/current_time", null, sa, (string)agentic["id"]!, ws);
            var hook = await DoAsync("CreateWorkflow", o, "POST", $"{w}/workflows",
                WorkflowApi.Body("hooked", new { type = "webhook", trigger = new { webhook = new { mode = "async" } }, steps = quick["steps"] }), sa, workspaceId: ws);
            await DoAsync("DeactivateWorkflow", o, "POST", $"{w}/workflows/hooked/deactivate", null, sa, (string)hook["id"]!, ws);
            await DoAsync("ActivateWorkflow", o, "POST", $"{w}/workflows/hooked/activate", null, sa, (string)hook["id"]!, ws);
            await DoAsync("RotateWorkflowWebhookToken", o, "POST", $"{w}/workflows/hooked/webhook-token/rotate", new { }, sa, "hooked", ws);
            var token = await DoAsync("GetWorkflowWebhookToken", o, "GET", $"{w}/workflows/hooked/webhook-token", null, sa, "hooked", ws);
            var hookPath = (string)token["path"]!;
            using var sender = app.Client();
            var received = await DoAsync("ReceiveWebhook", sender, "POST", hookPath, new { n = 2 }, nobody, workspaceId: ws,
                recordedPath: hookPath[..(hookPath.LastIndexOf('/') + 1)] + "{token}");
            Made[^1] = Made[^1] with { ResourceId = (string)received["runId"]! };

            // Runs, approvals, events, webhooks out, files.
            var started = await DoAsync("StartRun", o, "POST", $"{w}/workflows/quick/runs?wait=30s", new { input = new { n = 3 } }, sa, workspaceId: ws);
            await DoAsync("RerunRun", o, "POST", $"{w}/runs/{started["id"]}/rerun", null, sa, workspaceId: ws);
            var sleepy = await CreateAsync(o, w, "sleepy", """[{"id": "nap", "activity": {"uniqueIdentifier": "sleep"}, "input": {"duration": "1h"}}]""");
            var napping = (string)(await DoAsync("StartRun", o, "POST", $"{w}/workflows/{sleepy}/runs", new { }, sa, workspaceId: ws))["id"]!;
            await DoAsync("HaltRun", o, "POST", $"{w}/runs/{napping}/halt", null, sa, napping, ws);
            await Eventually.HoldsAsync(async () => (string)(await (await o.GetAsync($"{w}/runs/{napping}")).ReadObjectAsync())["status"]! == "halted", "the run halted");
            await DoAsync("ResumeRun", o, "POST", $"{w}/runs/{napping}/resume", null, sa, napping, ws);
            var failing = await CreateAsync(o, w, "failing", """[{"id": "boom", "activity": {"uniqueIdentifier": "http"}, "input": {"url": "http://127.0.0.1:1/"}, "retryPolicy": {"maximumAttempts": 1}}]""");
            var failed = (string)(await DoAsync("StartRun", o, "POST", $"{w}/workflows/{failing}/runs?wait=30s", new { }, sa, workspaceId: ws))["id"]!;
            await DoAsync("RetryRun", o, "POST", $"{w}/runs/{failed}/retry", null, sa, failed, ws);
            var chat = (string)(await DoAsync("StartRun", o, "POST", $"{w}/workflows/agentic/runs", new { prompt = "Hello" }, sa, workspaceId: ws))["id"]!;
            await Eventually.HoldsAsync(async () => (await (await o.GetAsync($"{w}/runs/{chat}")).ReadObjectAsync())["steps"]![0]!["status"]?.GetValue<string>() == "waiting", "the session waits");
            await DoAsync("SendRunMessage", o, "POST", $"{w}/runs/{chat}/messages", new { end = true }, sa, chat, ws);
            var approvalFlow = await CreateAsync(o, w, "signoff",
                $$$"""[{"id": "ok", "activity": {"uniqueIdentifier": "approval"}, "input": {"message": "Ship?"}, "approval": {"approvers": ["{{{accountId}}}"]}}]""");
            var waiting = (string)(await DoAsync("StartRun", o, "POST", $"{w}/workflows/{approvalFlow}/runs", new { }, sa, workspaceId: ws))["id"]!;
            JsonNode? approval = null;
            await Eventually.HoldsAsync(async () =>
            {
                approval = (await (await o.GetAsync($"{w}/approvals?run={waiting}")).ReadObjectAsync())["results"]!.AsArray().FirstOrDefault();
                return approval is not null;
            }, "the approval is asked for");
            await DoAsync("DecideApproval", o, "POST", $"{w}/approvals/{approval!["id"]}/decisions", new { decision = "approve" }, sa, (string)approval["id"]!, ws);

            var subscription = await DoAsync("CreateWebhookSubscription", o, "POST", $"{w}/webhook-subscriptions", new { url = receiver.ToString(), eventTypes = new[] { "order.paid" } }, sa, workspaceId: ws);
            var subscriptionId = (string)subscription["id"]!;
            await DoAsync("UpdateWebhookSubscription", o, "PATCH", $"{w}/webhook-subscriptions/{subscriptionId}", new { description = "Orders." }, sa, subscriptionId, ws);
            await DoAsync("RotateWebhookSubscriptionSecret", o, "POST", $"{w}/webhook-subscriptions/{subscriptionId}/rotate-secret", null, sa, subscriptionId, ws);
            var paid = await DoAsync("IngestEvent", o, "POST", $"{w}/events", new { type = "order.paid", payload = new { order = 7 } }, sa, workspaceId: ws);
            await DoAsync("ReplayEvent", o, "POST", $"{w}/events/{paid["id"]}/replay", null, sa, (string)paid["id"]!, ws);
            JsonNode? delivery = null;
            await Eventually.HoldsAsync(async () =>
            {
                delivery = (await (await o.GetAsync($"{w}/deliveries")).ReadObjectAsync())["results"]!.AsArray()
                    .FirstOrDefault(d => (string)d!["status"]! is "delivered" or "dead");
                return delivery is not null;
            }, "a delivery settles");
            await DoAsync("RedeliverWebhook", o, "POST", $"{w}/deliveries/{delivery!["id"]}/redeliver", null, sa, (string)delivery["id"]!, ws);
            await DoAsync("DeleteWebhookSubscription", o, "DELETE", $"{w}/webhook-subscriptions/{subscriptionId}", null, sa, subscriptionId, ws);

            var upload = await DoAsync("CreateFileUploadUrl", o, "POST", $"{w}/files/upload-url",
                new { name = "dot.png", contentType = "image/png", size = FileApi.Png.Length }, sa, workspaceId: ws);
            var fileId = (string)upload["storageId"]!;
            Made[^1] = Made[^1] with { ResourceId = fileId };
            var uploadUrl = new Uri((string)upload["uploadUrl"]!);
            using var uploader = app.Client();
            await DoAsync("UploadFile", uploader, "PUT", uploadUrl.PathAndQuery, null, nobody, fileId, ws,
                new ByteArrayContent(FileApi.Png) { Headers = { ContentType = new MediaTypeHeaderValue("image/png") } });
            await DoAsync("DeleteFile", o, "DELETE", $"{w}/files/{fileId}", null, sa, fileId, ws);
            await DoAsync("ExportAuditLog", o, "GET", $"{w}/audit/export?format=csv", null, sa, workspaceId: ws);

            // Ownership, the owner's password and session, and a workspace deleted.
            await DoAsync("AddMember", o, "POST", $"{w}/members", new { userId = ownerId, role = "admin" }, sa, workspaceId: ws);
            await DoAsync("TransferOwnership", o, "POST", $"{w}/transfer-ownership", new { userId = ownerId }, sa, workspaceId: ws);
            var changed = await DoAsync("ChangePassword", signInClient, "POST", "/api/v1/me/password",
                new { currentPassword = owner.Password, newPassword = "an even longer passphrase" }, me, ownerId);
            if (changed["csrfToken"] is JsonValue fresh)
            {
                signInClient.DefaultRequestHeaders.Remove("X-CSRF-Token");
                signInClient.DefaultRequestHeaders.Add("X-CSRF-Token", fresh.GetValue<string>());
            }

            await DoAsync("Logout", signInClient, "POST", "/api/v1/auth/logout", null, me, ownerId);
            var doomed = await DoAsync("CreateWorkspace", admin, "POST", "/api/v1/workspaces", new { name = "doomed" }, adminActor);
            await DoAsync("DeleteWorkspace", admin, "DELETE", "/api/v1/workspaces/doomed", null, adminActor, workspaceId: (string)doomed["id"]!);
        }

        private static async Task<string> CreateAsync(HttpClient client, string w, string name, string steps)
        {
            var body = WorkflowApi.Body(name);
            body["steps"] = JsonNode.Parse(steps);
            await (await client.PostAsync($"{w}/workflows", Api.JsonContent(body))).ShouldBeAsync(HttpStatusCode.Created);
            return name;
        }
    }
}
