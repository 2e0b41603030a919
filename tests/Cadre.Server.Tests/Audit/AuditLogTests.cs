using System.Net;
using System.Text.Json.Nodes;
using Cadre.Audit;
using Cadre.Auth;
using Cadre.Common;
using Cadre.Server.Tests.Personas;
using Cadre.Server.Tests.Retention;
using Cadre.Server.Tests.Workflows;
using Cadre.Storage;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace Cadre.Server.Tests.Audit;

/// <summary>The audit log's API and guarantees: what is recorded and what not, filters, exports, roles, secrets, append-only, retention.</summary>
public sealed class AuditLogTests
{
    private static string Audit(TestWorkspace workspace, string rest = "") => $"/api/v1/workspaces/{workspace.Name}/audit{rest}";

    private static async Task<List<JsonObject>> EntriesAsync(TestWorkspace workspace, string query = "")
    {
        var page = await (await workspace.Owner.GetAsync(Audit(workspace, query))).ReadObjectAsync();
        return [.. page["results"]!.AsArray().Select(e => e!.AsObject())];
    }

    [Theory, AllDatabases]
    public async Task Change_IsRecordedWithActorResourceFieldsAndRequest(DatabaseKind db)
    {
        var app = await SharedApps.Get(db);
        var workspace = await app.CreateWorkspaceAsync();
        var persona = await workspace.CreatePersonaAsync("helper");
        using var request = new HttpRequestMessage(HttpMethod.Patch, workspace.Path("/helper")) { Content = Api.JsonContent(new { description = "Changed.", tags = new[] { "x" } }) };
        request.Headers.UserAgent.ParseAdd("audit-test/1.0");
        await (await workspace.Owner.SendAsync(request)).ShouldBeAsync(HttpStatusCode.OK);

        var entry = (await EntriesAsync(workspace, "?action=persona.updated")).ShouldHaveSingleItem();

        ((string)entry["id"]!).ShouldStartWith("aud_");
        ((string)entry["workspaceId"]!).ShouldBe(workspace.Id);
        ((string)entry["workspaceName"]!).ShouldBe(workspace.Name);
        ((string)entry["actor"]!["kind"]!).ShouldBe("service_account");
        ((string)entry["actor"]!["via"]!).ShouldBe("api_key");
        ((string)entry["actor"]!["keyPrefix"]!).ShouldBe(workspace.OwnerKey[..((string)entry["actor"]!["keyPrefix"]!).Length]);
        ((string)entry["actor"]!["keyId"]!).ShouldStartWith("key_");
        entry["resource"]!.ToJsonString().ShouldBe($$"""{"type":"persona","id":"{{persona["id"]}}","name":"helper"}""");
        ((string)entry["request"]!["method"]!).ShouldBe("PATCH");
        ((string)entry["request"]!["path"]!).ShouldBe(workspace.Path("/helper"));
        ((int)entry["request"]!["status"]!).ShouldBe(200);
        ((string)entry["request"]!["clientIp"]!).ShouldBe("127.0.0.1");
        ((string)entry["request"]!["userAgent"]!).ShouldBe("audit-test/1.0");
        ((string)entry["request"]!["traceId"]!).ShouldNotBeNullOrEmpty();
        entry["details"]!["fields"]!.AsArray().Select(f => (string)f!).ShouldBe(["description", "tags"], ignoreOrder: true);
        entry["details"]!.ToJsonString().ShouldNotContain("Changed.");
    }

    [Theory, AllDatabases]
    public async Task FailedRequests_LeaveNoEntry_ButRefusedSignInsAndDenialsDo(DatabaseKind db)
    {
        var app = await SharedApps.Get(db);
        var workspace = await app.CreateWorkspaceAsync();
        await workspace.CreatePersonaAsync("taken");
        var viewerKey = await workspace.Owner.CreateKeyAsync(workspace.Name, "viewer");
        using var viewer = app.Client(viewerKey);
        var before = (await EntriesAsync(workspace)).Count;

        await (await workspace.Owner.PostJsonAsync(workspace.Path(), PersonaApi.Body("taken"))).ShouldBeProblemAsync(HttpStatusCode.Conflict);
        await (await workspace.Owner.PostJsonAsync(workspace.Path(), new { name = "Not A Slug" })).ShouldBeProblemAsync(HttpStatusCode.UnprocessableEntity);
        await (await workspace.Owner.DeleteAsync(workspace.Path("/nobody"))).ShouldBeProblemAsync(HttpStatusCode.NotFound);
        await (await workspace.Owner.PostAsync(workspace.Path(), new StringContent("{"))).ShouldBeProblemAsync(HttpStatusCode.UnsupportedMediaType);
        (await EntriesAsync(workspace)).Count.ShouldBe(before);

        await (await viewer.DeleteAsync(workspace.Path("/taken"))).ShouldBeProblemAsync(HttpStatusCode.Forbidden);
        var denied = (await EntriesAsync(workspace, "?action=access.denied")).ShouldHaveSingleItem();
        ((int)denied["request"]!["status"]!).ShouldBe(403);
        ((string)denied["details"]!["action"]!).ShouldBe("persona.deleted");
        ((string)denied["actor"]!["kind"]!).ShouldBe("service_account");
        denied["resource"].ShouldBeNull();

        var user = await app.CreateUserAsync();
        using var stranger = app.Client();
        await (await stranger.PostJsonAsync("/api/v1/auth/login", new { email = user.Email, password = "not the password at all" })).ShouldBeProblemAsync(HttpStatusCode.Unauthorized);
        using var admin = app.AdminClient();
        var failed = (await (await admin.GetAsync("/api/v1/admin/audit?action=auth.sign_in_failed&workspace=none&limit=100")).ReadObjectAsync())["results"]!.AsArray()
            .Select(e => e!.AsObject()).Where(e => (string?)e["details"]!["email"] == user.Email).ShouldHaveSingleItem();
        ((string)failed["actor"]!["kind"]!).ShouldBe("anonymous");
        ((int)failed["request"]!["status"]!).ShouldBe(401);
        failed.ToJsonString().ShouldNotContain("not the password at all");
    }

    [Theory, AllDatabases]
    public async Task List_FiltersAndPages(DatabaseKind db)
    {
        var app = await SharedApps.Get(db);
        var workspace = await app.CreateWorkspaceAsync();
        var (editorId, editorKey) = await workspace.Owner.CreateServiceAccountAsync(workspace.Name, "editor");
        using var editor = app.Client(editorKey);
        var start = DateTime.UtcNow.AddSeconds(-1);
        await workspace.CreatePersonaAsync("one");
        var two = await workspace.CreatePersonaAsync("two");
        await (await editor.PostJsonAsync($"/api/v1/workspaces/{workspace.Name}/workflows", WorkflowApi.Body("flow"))).ShouldBeAsync(HttpStatusCode.Created);
        await (await workspace.Owner.DeleteAsync(workspace.Path("/two"))).ShouldBeAsync(HttpStatusCode.OK);

        (await EntriesAsync(workspace, "?action=persona.created")).Count.ShouldBe(2);
        (await EntriesAsync(workspace, "?action=persona.*")).Select(e => (string)e["action"]!).ShouldBe(["persona.deleted", "persona.created", "persona.created"]);
        (await EntriesAsync(workspace, $"?actor={editorId}")).Select(e => (string)e["action"]!).ShouldBe(["workflow.created"]);
        (await EntriesAsync(workspace, "?resourceType=workflow")).Count.ShouldBe(1);
        (await EntriesAsync(workspace, $"?resourceId={two["id"]}")).Select(e => (string)e["action"]!).ShouldBe(["persona.deleted", "persona.created"]);
        (await EntriesAsync(workspace, "?status=2xx&action=persona.*")).Count.ShouldBe(3);
        (await EntriesAsync(workspace, "?status=201&action=persona.*")).Count.ShouldBe(2);
        (await EntriesAsync(workspace, $"?from={start:O}&action=persona.*")).Count.ShouldBe(3);
        (await EntriesAsync(workspace, $"?to={start:O}")).ShouldBeEmpty();

        var first = await (await workspace.Owner.GetAsync(Audit(workspace, "?action=persona.*&limit=2"))).ReadObjectAsync();
        first["results"]!.AsArray().Count.ShouldBe(2);
        ((int)first["count"]!).ShouldBe(3);
        var next = await (await workspace.Owner.GetAsync((string)first["next"]!)).ReadObjectAsync();
        next["results"]!.AsArray().Select(e => (string)e!["action"]!).ShouldBe(["persona.created"]);
        next["next"].ShouldBeNull();

        var accepted = new List<string>();
        foreach (var bad in new[] { "action=a*b", "from=yesterday", "to=31/12/2030", "status=abc", "status=6xx", "limit=0", "cursor=nope" })
        {
            // (The export has no pages: limit and cursor mean nothing to it.)
            foreach (var path in bad.StartsWith("limit", StringComparison.Ordinal) || bad.StartsWith("cursor", StringComparison.Ordinal)
                ? [Audit(workspace, "?" + bad)]
                : new[] { Audit(workspace, "?" + bad), Audit(workspace, "/export?" + bad) })
            {
                var response = await workspace.Owner.GetAsync(path);
                if (response.StatusCode != HttpStatusCode.BadRequest || response.Content.Headers.ContentType?.MediaType != "application/problem+json")
                {
                    accepted.Add($"{path} → {(int)response.StatusCode}");
                }
            }
        }

        accepted.ShouldBeEmpty();

        await (await workspace.Owner.GetAsync(Audit(workspace, "/export?format=xml"))).ShouldBeProblemAsync(HttpStatusCode.BadRequest);
    }

    [Theory, AllDatabases]
    public async Task Export_StreamsCsvAndNdjson_AndIsItselfRecorded(DatabaseKind db)
    {
        var app = await SharedApps.Get(db);
        var workspace = await app.CreateWorkspaceAsync();
        using (var request = new HttpRequestMessage(HttpMethod.Post, workspace.Path()) { Content = Api.JsonContent(PersonaApi.Body("formula")) })
        {
            // A value a spreadsheet would run: the CSV defuses it.
            request.Headers.TryAddWithoutValidation("User-Agent", "=1+2");
            await (await workspace.Owner.SendAsync(request)).ShouldBeAsync(HttpStatusCode.Created);
        }

        var ndjson = await workspace.Owner.GetAsync(Audit(workspace, "/export?action=persona.*"));
        await ndjson.ShouldBeAsync(HttpStatusCode.OK);
        ndjson.Content.Headers.ContentType!.MediaType.ShouldBe("application/x-ndjson");
        ndjson.Content.Headers.ContentDisposition!.DispositionType.ShouldBe("attachment");
        var lines = (await ndjson.Content.ReadAsStringAsync()).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var created = JsonNode.Parse(lines.ShouldHaveSingleItem())!;
        ((string)created["action"]!).ShouldBe("persona.created");
        ((string)created["request"]!["userAgent"]!).ShouldBe("=1+2");

        var csv = await workspace.Owner.GetAsync(Audit(workspace, "/export?format=csv"));
        await csv.ShouldBeAsync(HttpStatusCode.OK);
        csv.Content.Headers.ContentType!.MediaType.ShouldBe("text/csv");
        var rows = (await csv.Content.ReadAsStringAsync()).Split("\r\n", StringSplitOptions.RemoveEmptyEntries);
        rows[0].ShouldStartWith("id,at,workspaceId,workspaceName,actorKind,");
        // Oldest first: the workspace, the owner's account and key, the persona, then the first export and this one.
        rows.Skip(1).Select(r => r.Split(',')[11]).ShouldBe(["workspace.created", "service_account.created", "api_key.created", "persona.created", "audit.exported", "audit.exported"]);
        rows[4].ShouldContain(",'=1+2,");
        var exported = (await EntriesAsync(workspace, "?action=audit.exported")).First();
        ((string)exported["details"]!["query"]!["format"]!).ShouldBe("csv");
    }

    [Theory, AllDatabases]
    public async Task Audit_NeedsAdmin_AndAnotherWorkspaceIs404(DatabaseKind db)
    {
        var app = await SharedApps.Get(db);
        var workspace = await app.CreateWorkspaceAsync();
        var other = await app.CreateWorkspaceAsync();
        using var editor = app.Client(await workspace.Owner.CreateKeyAsync(workspace.Name, "editor"));
        using var admin = app.Client(await workspace.Owner.CreateKeyAsync(workspace.Name, "admin"));

        await (await editor.GetAsync(Audit(workspace))).ShouldBeProblemAsync(HttpStatusCode.Forbidden);
        await (await editor.GetAsync(Audit(workspace, "/export"))).ShouldBeProblemAsync(HttpStatusCode.Forbidden);
        await (await admin.GetAsync(Audit(workspace))).ShouldBeAsync(HttpStatusCode.OK);
        await (await admin.GetAsync(Audit(workspace, "/export"))).ShouldBeAsync(HttpStatusCode.OK);
        await (await admin.GetAsync(Audit(other))).ShouldBeProblemAsync(HttpStatusCode.NotFound);
        await (await workspace.Owner.GetAsync(Audit(other, "/export"))).ShouldBeProblemAsync(HttpStatusCode.NotFound);
        await (await admin.GetAsync("/api/v1/admin/audit")).ShouldBeProblemAsync(HttpStatusCode.Forbidden);
        await (await admin.GetAsync("/api/v1/admin/audit/export")).ShouldBeProblemAsync(HttpStatusCode.Forbidden);
        using var anonymous = app.Client();
        await (await anonymous.GetAsync(Audit(workspace))).ShouldBeProblemAsync(HttpStatusCode.Unauthorized);
        // Nothing in the API changes an entry.
        (await admin.DeleteAsync(Audit(workspace))).StatusCode.ShouldBe(HttpStatusCode.MethodNotAllowed);
    }

    [Theory, AllDatabases]
    public async Task Entries_NeverHoldSecretsOrKeys(DatabaseKind db)
    {
        var app = await SharedApps.Get(db);
        var workspace = await app.CreateWorkspaceAsync();
        const string SecretValue = "s3cr3t-value-that-must-not-leak";
        await (await workspace.Owner.PostJsonAsync($"/api/v1/workspaces/{workspace.Name}/secrets", new { name = "TOKEN", value = SecretValue })).ShouldBeAsync(HttpStatusCode.Created);
        await (await workspace.Owner.PatchJsonAsync($"/api/v1/workspaces/{workspace.Name}/secrets/TOKEN", new { value = SecretValue + "-2" })).ShouldBeAsync(HttpStatusCode.OK);
        var key = await workspace.Owner.CreateKeyAsync(workspace.Name, "viewer");
        var hook = await workspace.CreateWorkflowAsync("hooked", new { type = "webhook", trigger = new { webhook = new { mode = "async" } } });
        await (await workspace.Owner.PostAsync($"/api/v1/workspaces/{workspace.Name}/workflows/hooked/activate", null)).ShouldBeAsync(HttpStatusCode.OK);
        var path = (string)(await (await workspace.Owner.GetAsync($"/api/v1/workspaces/{workspace.Name}/workflows/hooked/webhook-token")).ReadObjectAsync())["path"]!;
        using var sender = app.Client();
        await (await sender.PostJsonAsync(path + "?apikey=" + SecretValue, new { id = 1 })).ShouldBeAsync(HttpStatusCode.Accepted);
        var token = path[(path.LastIndexOf('/') + 1)..];
        hook["id"].ShouldNotBeNull();

        var stored = await StoredTextAsync(app, workspace.Id);
        var exports = await (await workspace.Owner.GetAsync(Audit(workspace, "/export"))).Content.ReadAsStringAsync()
            + await (await workspace.Owner.GetAsync(Audit(workspace, "/export?format=csv"))).Content.ReadAsStringAsync();

        foreach (var text in new[] { stored, exports })
        {
            text.ShouldContain("secret.updated");
            text.ShouldContain("webhook.received");
            text.ShouldNotContain(SecretValue);
            text.ShouldNotContain(key);
            text.ShouldNotContain(token);
            text.ShouldNotContain(workspace.OwnerKey);
        }
    }

    [Theory, AllDatabases]
    public async Task Table_RefusesUpdatesAndDeletes_ExceptTheRetentionPass(DatabaseKind db)
    {
        await using var app = await CadreApp.StartAsync(db, new Dictionary<string, string?> { ["Cadre:Retention:Audit"] = "30d" });
        var workspace = await app.CreateWorkspaceAsync();
        var recent = (await EntriesAsync(workspace)).Count;
        recent.ShouldBeGreaterThan(0);
        var old = await WriteOldEntryAsync(app, workspace.Id, TimeSpan.FromDays(31));

        await using (var scope = app.Services.CreateAsyncScope())
        {
            var context = scope.ServiceProvider.GetRequiredService<CadreDbContext>();
            await Should.ThrowAsync<Exception>(() => context.Database.ExecuteSqlRawAsync("UPDATE audit_entries SET action = 'nothing.happened'"));
            await Should.ThrowAsync<Exception>(() => context.Database.ExecuteSqlRawAsync("DELETE FROM audit_entries"));
            await Should.ThrowAsync<Exception>(() => context.AuditEntries.Where(e => e.Id == old).ExecuteDeleteAsync());
            if (db == DatabaseKind.Postgres)
            {
                await Should.ThrowAsync<Exception>(() => context.Database.ExecuteSqlRawAsync("TRUNCATE audit_entries"));
            }
        }

        (await EntriesAsync(workspace)).Count.ShouldBe(recent + 1);
        (await app.SweepAsync()).AuditEntries.ShouldBe(1);
        var left = await EntriesAsync(workspace);
        left.Count.ShouldBe(recent);
        left.ShouldNotContain(e => (string)e["id"]! == old);
    }

    [Theory, AllDatabases]
    public async Task DeletedWorkspace_KeepsItsTrail_ForInstanceAdmins(DatabaseKind db)
    {
        var app = await SharedApps.Get(db);
        var workspace = await app.CreateWorkspaceAsync();
        await workspace.CreatePersonaAsync("helper");
        using var admin = app.AdminClient();
        await (await admin.DeleteAsync($"/api/v1/workspaces/{workspace.Name}")).ShouldBeAsync(HttpStatusCode.NoContent);

        var trail = await (await admin.GetAsync($"/api/v1/admin/audit?workspace={workspace.Id}")).ReadObjectAsync();

        trail["results"]!.AsArray().Select(e => (string)e!["action"]!).ShouldBe(["workspace.deleted", "persona.created", "api_key.created", "service_account.created", "workspace.created"]);
        ((string)trail["results"]![0]!["actor"]!["kind"]!).ShouldBe("instance_key");
        var instanceOnly = await (await admin.GetAsync("/api/v1/admin/audit?workspace=none&limit=100")).ReadObjectAsync();
        instanceOnly["results"]!.AsArray().ShouldAllBe(e => e!["workspaceId"] == null);
    }

    [Fact]
    public async Task ForwardedClientAddress_IsRecordedWhenTrusted()
    {
        await using var app = await CadreApp.StartAsync(DatabaseKind.Sqlite, new Dictionary<string, string?> { ["Cadre:Http:TrustForwardedHeaders"] = "true" });
        var workspace = await app.CreateWorkspaceAsync();
        using var request = new HttpRequestMessage(HttpMethod.Post, workspace.Path()) { Content = Api.JsonContent(PersonaApi.Body("forwarded")) };
        request.Headers.Add("X-Forwarded-For", "203.0.113.7");
        await (await workspace.Owner.SendAsync(request)).ShouldBeAsync(HttpStatusCode.Created);

        var entry = (await EntriesAsync(workspace, "?action=persona.created")).ShouldHaveSingleItem();

        ((string)entry["request"]!["clientIp"]!).ShouldBe("203.0.113.7");
    }

    /// <summary>Every stored column of the workspace's entries, as one text.</summary>
    private static async Task<string> StoredTextAsync(CadreApp app, string workspaceId)
    {
        await using var scope = app.Services.CreateAsyncScope();
        var entries = await scope.ServiceProvider.GetRequiredService<CadreDbContext>().AuditEntries.AsNoTracking().Where(e => e.WorkspaceId == workspaceId).ToListAsync();
        return string.Join('\n', entries.Select(e => System.Text.Json.JsonSerializer.Serialize(e)));
    }

    /// <summary>Writes an entry as if long ago: through the log itself, on a clock set back (no statement may age one).</summary>
    private static async Task<string> WriteOldEntryAsync(CadreApp app, string workspaceId, TimeSpan age)
    {
        await using var scope = app.Services.CreateAsyncScope();
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow - age);
        var log = new AuditLog(
            scope.ServiceProvider.GetRequiredService<IDbContextFactory<CadreDbContext>>(), scope.ServiceProvider.GetRequiredService<CadreDbContext>(), new IdGenerator(clock), clock);
        return await log.WriteAsync(
            new AuditRecord(workspaceId, new AuditActor(CallerKind.InstanceKey, null, null, "api_key"), "persona.created", "persona", "per_old", "old", "POST", "/old", 201, "127.0.0.1", null, null, null),
            CancellationToken.None);
    }
}
