using System.Net;
using System.Text.Json.Nodes;
using Cadre.Secrets;
using Cadre.Server.Tests.Infrastructure;
using Cadre.Server.Tests.Runs;
using Cadre.Storage;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Cadre.Server.Tests.Secrets;

/// <summary>…/secrets: names and metadata come back, values never do; every refusal is a problem.</summary>
public sealed class SecretEndpointTests
{
    private static string Secrets(TestWorkspace workspace, string rest = "") => $"/api/v1/workspaces/{workspace.Name}/secrets{rest}";

    private static string Canary() => "canary-" + Guid.NewGuid().ToString("N");

    [Theory, AllDatabases]
    public async Task Secrets_CreateReadChangeDelete_ValueNeverComesBack(DatabaseKind db)
    {
        var app = await SharedApps.Get(db);
        var workspace = await app.CreateWorkspaceAsync();
        var value = Canary();
        var changed = Canary();

        var created = await workspace.Owner.PostJsonAsync(Secrets(workspace), new { name = "crm_token", value, description = "The CRM's API token" });

        await created.ShouldBeAsync(HttpStatusCode.Created);
        created.Headers.Location!.ToString().ShouldBe(Secrets(workspace, "/crm_token"));
        created.Headers.ETag!.Tag.ShouldBe("\"1\"");
        var body = await created.Content.ReadAsStringAsync();
        body.ShouldNotContain(value);
        var secret = JsonNode.Parse(body)!.AsObject();
        ((string)secret["id"]!).ShouldStartWith("sec_");
        ((string)secret["name"]!).ShouldBe("crm_token");
        ((string)secret["description"]!).ShouldBe("The CRM's API token");
        ((int)secret["version"]!).ShouldBe(1);
        ((string)secret["createdBy"]!["kind"]!).ShouldBe("service_account");
        secret.ContainsKey("value").ShouldBeFalse();

        var got = await workspace.Owner.GetAsync(Secrets(workspace, "/crm_token"));
        await got.ShouldBeAsync(HttpStatusCode.OK);
        got.Headers.ETag!.Tag.ShouldBe("\"1\"");
        (await got.Content.ReadAsStringAsync()).ShouldNotContain(value);
        await (await workspace.Owner.GetAsync(Secrets(workspace, $"/{secret["id"]}"))).ShouldBeAsync(HttpStatusCode.OK);

        var updated = await workspace.Owner.PatchJsonAsync(Secrets(workspace, "/crm_token"), new { value = changed }, "\"1\"");
        await updated.ShouldBeAsync(HttpStatusCode.OK);
        var updatedBody = await updated.Content.ReadAsStringAsync();
        updatedBody.ShouldNotContain(changed);
        ((int)JsonNode.Parse(updatedBody)!["version"]!).ShouldBe(2);
        ((string)JsonNode.Parse(updatedBody)!["description"]!).ShouldBe("The CRM's API token");
        var described = await (await workspace.Owner.PatchJsonAsync(Secrets(workspace, "/crm_token"), new { description = "" })).ReadObjectAsync();
        described["description"].ShouldBeNull();

        using (var scope = app.Services.CreateScope())
        {
            var stored = await scope.ServiceProvider.GetRequiredService<CadreDbContext>().Secrets.AsNoTracking().SingleAsync(s => s.Id == (string)secret["id"]!);
            System.Text.Encoding.UTF8.GetString(stored.Ciphertext).ShouldNotContain(changed);
            (await scope.ServiceProvider.GetRequiredService<SecretService>().RevealAsync(workspace.Id, "crm_token", CancellationToken.None)).ShouldBe(changed);
            (await scope.ServiceProvider.GetRequiredService<SecretService>().RevealAsync(workspace.Id, "nope", CancellationToken.None)).ShouldBeNull();
        }

        var listed = await (await workspace.Owner.GetAsync(Secrets(workspace))).Content.ReadAsStringAsync();
        listed.ShouldNotContain(value);
        listed.ShouldNotContain(changed);
        ((int)JsonNode.Parse(listed)!["count"]!).ShouldBe(1);

        await (await workspace.Owner.DeleteAsync(Secrets(workspace, "/crm_token"))).ShouldBeAsync(HttpStatusCode.NoContent);
        await (await workspace.Owner.GetAsync(Secrets(workspace, "/crm_token"))).ShouldBeProblemAsync(HttpStatusCode.NotFound);
        (await workspace.ListAllAsync(Secrets(workspace))).ShouldBeEmpty();
    }

    [Theory, AllDatabases]
    public async Task List_QueryAndPages_NewestFirst(DatabaseKind db)
    {
        var app = await SharedApps.Get(db);
        var workspace = await app.CreateWorkspaceAsync();
        foreach (var name in new[] { "github-token", "crm_token", "smtp-password" })
        {
            await (await workspace.Owner.PostJsonAsync(Secrets(workspace), new { name, value = Canary() })).ShouldBeAsync(HttpStatusCode.Created);
        }

        (await workspace.ListAllAsync(Secrets(workspace))).Select(s => (string)s["name"]!).ShouldBe(["smtp-password", "crm_token", "github-token"]);
        (await workspace.ListAllAsync(Secrets(workspace, "?q=TOKEN"))).Select(s => (string)s["name"]!).ShouldBe(["crm_token", "github-token"]);
        var first = await (await workspace.Owner.GetAsync(Secrets(workspace, "?limit=2"))).ReadObjectAsync();
        first["results"]!.AsArray().Count.ShouldBe(2);
        var second = await (await workspace.Owner.GetAsync((string)first["next"]!)).ReadObjectAsync();
        second["results"]!.AsArray().Select(s => (string)s!["name"]!).ShouldBe(["github-token"]);
        await (await workspace.Owner.GetAsync(Secrets(workspace, "?limit=0"))).ShouldBeProblemAsync(HttpStatusCode.BadRequest);
    }

    [Theory, AllDatabases]
    public async Task Create_InvalidFields_Answer422NamingEach(DatabaseKind db)
    {
        var app = await SharedApps.Get(db);
        var workspace = await app.CreateWorkspaceAsync();

        var invalid = await (await workspace.Owner.PostJsonAsync(Secrets(workspace), new { name = "1st secret", description = new string('d', 1001) }))
            .ShouldBeProblemAsync(HttpStatusCode.UnprocessableEntity);
        var tooLong = await (await workspace.Owner.PostJsonAsync(Secrets(workspace), new { name = new string('a', 65), value = new string('v', 64 * 1024 + 1) }))
            .ShouldBeProblemAsync(HttpStatusCode.UnprocessableEntity);
        var empty = await (await workspace.Owner.PostJsonAsync(Secrets(workspace), new { name = "empty", value = "" }))
            .ShouldBeProblemAsync(HttpStatusCode.UnprocessableEntity);

        invalid.Errors!.Keys.Order().ShouldBe(["description", "name", "value"]);
        tooLong.Errors!.Keys.Order().ShouldBe(["name", "value"]);
        empty.Errors!.Keys.ShouldBe(["value"]);
        await (await workspace.Owner.PostJsonAsync(Secrets(workspace), new { name = "max", value = new string('v', 64 * 1024) })).ShouldBeAsync(HttpStatusCode.Created);
        (await workspace.ListAllAsync(Secrets(workspace))).Select(s => (string)s["name"]!).ShouldBe(["max"]);
    }

    [Theory, AllDatabases]
    public async Task Requests_Malformed_Answer400And415(DatabaseKind db)
    {
        var app = await SharedApps.Get(db);
        var workspace = await app.CreateWorkspaceAsync();

        var unknown = await (await workspace.Owner.PostJsonAsync(Secrets(workspace), new { name = "token", value = Canary(), secret = "typo" }))
            .ShouldBeProblemAsync(HttpStatusCode.BadRequest);
        await (await workspace.Owner.PostJsonAsync(Secrets(workspace), new { name = "token", value = 42 })).ShouldBeProblemAsync(HttpStatusCode.BadRequest);
        await (await workspace.Owner.PostAsync(Secrets(workspace), new StringContent("{\"name\": \"token\", \"value\": ", System.Text.Encoding.UTF8, "application/json")))
            .ShouldBeProblemAsync(HttpStatusCode.BadRequest);
        await (await workspace.Owner.PostAsync(Secrets(workspace), new StringContent("name=token", System.Text.Encoding.UTF8, "application/x-www-form-urlencoded")))
            .ShouldBeProblemAsync(HttpStatusCode.UnsupportedMediaType);

        unknown.Errors!.Keys.ShouldContain(k => k.Contains("secret", StringComparison.Ordinal));
        (await workspace.ListAllAsync(Secrets(workspace))).ShouldBeEmpty();
    }

    [Theory, AllDatabases]
    public async Task Create_TakenName_Answers409(DatabaseKind db)
    {
        var app = await SharedApps.Get(db);
        var workspace = await app.CreateWorkspaceAsync();
        var other = await app.CreateWorkspaceAsync();
        await (await workspace.Owner.PostJsonAsync(Secrets(workspace), new { name = "token", value = Canary() })).ShouldBeAsync(HttpStatusCode.Created);

        var taken = await (await workspace.Owner.PostJsonAsync(Secrets(workspace), new { name = "token", value = Canary() })).ShouldBeProblemAsync(HttpStatusCode.Conflict);

        taken.Detail!.ShouldContain("token");
        // Names are the workspace's own.
        await (await other.Owner.PostJsonAsync(Secrets(other), new { name = "token", value = Canary() })).ShouldBeAsync(HttpStatusCode.Created);
    }

    [Theory, AllDatabases]
    public async Task UpdateAndDelete_StaleIfMatch_Answer412AndChangeNothing(DatabaseKind db)
    {
        var app = await SharedApps.Get(db);
        var workspace = await app.CreateWorkspaceAsync();
        var value = Canary();
        await (await workspace.Owner.PostJsonAsync(Secrets(workspace), new { name = "token", value })).ShouldBeAsync(HttpStatusCode.Created);
        await (await workspace.Owner.PatchJsonAsync(Secrets(workspace, "/token"), new { description = "v2" }, "\"1\"")).ShouldBeAsync(HttpStatusCode.OK);

        await (await workspace.Owner.PatchJsonAsync(Secrets(workspace, "/token"), new { value = Canary() }, "\"1\"")).ShouldBeProblemAsync(HttpStatusCode.PreconditionFailed);
        using var delete = new HttpRequestMessage(HttpMethod.Delete, Secrets(workspace, "/token"));
        delete.Headers.TryAddWithoutValidation("If-Match", "\"1\"");
        await (await workspace.Owner.SendAsync(delete)).ShouldBeProblemAsync(HttpStatusCode.PreconditionFailed);

        using var scope = app.Services.CreateScope();
        (await scope.ServiceProvider.GetRequiredService<SecretService>().RevealAsync(workspace.Id, "token", CancellationToken.None)).ShouldBe(value);
        var renamed = await (await workspace.Owner.PatchJsonAsync(Secrets(workspace, "/token"), new { name = "other" })).ShouldBeProblemAsync(HttpStatusCode.UnprocessableEntity);
        renamed.Errors!.Keys.ShouldBe(["name"]);
        (await (await workspace.Owner.PatchJsonAsync(Secrets(workspace, "/token"), new { value = "" })).ShouldBeProblemAsync(HttpStatusCode.UnprocessableEntity))
            .Errors!.Keys.ShouldBe(["value"]);
    }

    [Theory, AllDatabases]
    public async Task Secrets_OfAnotherWorkspace_Answer404(DatabaseKind db)
    {
        var app = await SharedApps.Get(db);
        var workspace = await app.CreateWorkspaceAsync();
        var other = await app.CreateWorkspaceAsync();
        await (await other.Owner.PostJsonAsync(Secrets(other), new { name = "theirs", value = Canary() })).ShouldBeAsync(HttpStatusCode.Created);
        var theirs = await (await other.Owner.GetAsync(Secrets(other, "/theirs"))).ReadObjectAsync();

        await (await workspace.Owner.GetAsync(Secrets(workspace, "/theirs"))).ShouldBeProblemAsync(HttpStatusCode.NotFound);
        await (await workspace.Owner.GetAsync(Secrets(workspace, $"/{theirs["id"]}"))).ShouldBeProblemAsync(HttpStatusCode.NotFound);
        await (await workspace.Owner.PatchJsonAsync(Secrets(workspace, "/theirs"), new { value = Canary() })).ShouldBeProblemAsync(HttpStatusCode.NotFound);
        await (await workspace.Owner.DeleteAsync(Secrets(workspace, "/theirs"))).ShouldBeProblemAsync(HttpStatusCode.NotFound);
        // Another workspace's key does not reach into this one at all.
        await (await workspace.Owner.GetAsync(Secrets(other))).ShouldBeProblemAsync(HttpStatusCode.NotFound);
        await (await other.Owner.GetAsync(Secrets(other, "/theirs"))).ShouldBeAsync(HttpStatusCode.OK);
    }

    [Theory, AllDatabases]
    public async Task Roles_EditorsReadNames_OnlyAdminsWrite(DatabaseKind db)
    {
        var app = await SharedApps.Get(db);
        var workspace = await app.CreateWorkspaceAsync();
        using var viewer = app.Client(await workspace.Owner.CreateKeyAsync(workspace.Name, "viewer"));
        using var operatorClient = app.Client(await workspace.Owner.CreateKeyAsync(workspace.Name, "operator"));
        using var editor = app.Client(await workspace.Owner.CreateKeyAsync(workspace.Name, "editor"));
        using var admin = app.Client(await workspace.Owner.CreateKeyAsync(workspace.Name, "admin"));

        await (await admin.PostJsonAsync(Secrets(workspace), new { name = "token", value = Canary() })).ShouldBeAsync(HttpStatusCode.Created);

        foreach (var reader in new[] { viewer, operatorClient })
        {
            await (await reader.GetAsync(Secrets(workspace))).ShouldBeProblemAsync(HttpStatusCode.Forbidden);
            await (await reader.GetAsync(Secrets(workspace, "/token"))).ShouldBeProblemAsync(HttpStatusCode.Forbidden);
        }

        await (await editor.GetAsync(Secrets(workspace))).ShouldBeAsync(HttpStatusCode.OK);
        await (await editor.GetAsync(Secrets(workspace, "/token"))).ShouldBeAsync(HttpStatusCode.OK);
        await (await editor.PostJsonAsync(Secrets(workspace), new { name = "mine", value = Canary() })).ShouldBeProblemAsync(HttpStatusCode.Forbidden);
        await (await editor.PatchJsonAsync(Secrets(workspace, "/token"), new { value = Canary() })).ShouldBeProblemAsync(HttpStatusCode.Forbidden);
        await (await editor.DeleteAsync(Secrets(workspace, "/token"))).ShouldBeProblemAsync(HttpStatusCode.Forbidden);
        await (await admin.PatchJsonAsync(Secrets(workspace, "/token"), new { value = Canary() })).ShouldBeAsync(HttpStatusCode.OK);
        await (await admin.DeleteAsync(Secrets(workspace, "/token"))).ShouldBeAsync(HttpStatusCode.NoContent);
        // The instance's encryption is the operator's: no workspace role reaches it.
        await (await workspace.Owner.GetAsync("/api/v1/admin/encryption")).ShouldBeProblemAsync(HttpStatusCode.Forbidden);
        await (await workspace.Owner.PostAsync("/api/v1/admin/encryption/rotate", null)).ShouldBeProblemAsync(HttpStatusCode.Forbidden);
    }

    [Theory, AllDatabases]
    public async Task Workspace_Deleted_TakesItsSecretsWithIt(DatabaseKind db)
    {
        var app = await SharedApps.Get(db);
        var workspace = await app.CreateWorkspaceAsync();
        await (await workspace.Owner.PostJsonAsync(Secrets(workspace), new { name = "token", value = Canary() })).ShouldBeAsync(HttpStatusCode.Created);

        using var admin = app.AdminClient();
        await (await admin.DeleteAsync($"/api/v1/workspaces/{workspace.Name}")).ShouldBeAsync(HttpStatusCode.NoContent);

        using var scope = app.Services.CreateScope();
        (await scope.ServiceProvider.GetRequiredService<CadreDbContext>().Secrets.CountAsync(s => s.WorkspaceId == workspace.Id)).ShouldBe(0);
    }
}
