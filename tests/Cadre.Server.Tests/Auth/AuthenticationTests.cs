using System.Net;
using Cadre.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace Cadre.Server.Tests.Auth;

public sealed class AuthenticationTests
{
    [Theory, AllDatabases]
    public async Task NoKey_Returns401WithChallenge(DatabaseKind db)
    {
        var app = await SharedApps.Get(db);
        using var anonymous = app.Client();

        var response = await anonymous.GetAsync("/api/v1/workspaces");

        (await response.ShouldBeProblemAsync(HttpStatusCode.Unauthorized)).Detail!.ShouldContain("Bearer");
        response.Headers.WwwAuthenticate.ToString().ShouldStartWith("Bearer");
    }

    [Theory]
    [AllDatabases("Authorization", "Basic dXNlcjpwYXNz", "Bearer <api key>")]
    [AllDatabases("Authorization", "Bearer", "Bearer <api key>")]
    [AllDatabases("Authorization", "Token abc", "Bearer <api key>")]
    [AllDatabases("X-Api-Key", " ", "exactly one")]
    [AllDatabases("Authorization", "Bearer cadre_doesnotexist", "not valid")]
    [AllDatabases("X-Api-Key", "cadre_doesnotexist", "not valid")]
    public async Task MalformedOrUnknownKey_Returns401SayingWhy(DatabaseKind db, string header, string value, string reason)
    {
        var app = await SharedApps.Get(db);
        using var client = app.Client();
        var request = new HttpRequestMessage(HttpMethod.Get, "/api/v1/workspaces");
        request.Headers.TryAddWithoutValidation(header, value);

        var response = await client.SendAsync(request);

        (await response.ShouldBeProblemAsync(HttpStatusCode.Unauthorized)).Detail!.ShouldContain(reason);
    }

    [Theory, AllDatabases]
    public async Task TwoDifferentKeys_Returns401(DatabaseKind db)
    {
        var app = await SharedApps.Get(db);
        var workspace = await app.CreateWorkspaceAsync();
        using var client = app.Client(workspace.OwnerKey);
        client.DefaultRequestHeaders.Add("X-Api-Key", app.AdminKey);

        var response = await client.GetAsync("/api/v1/workspaces");

        (await response.ShouldBeProblemAsync(HttpStatusCode.Unauthorized)).Detail!.ShouldContain("different keys");
    }

    [Theory, AllDatabases]
    public async Task SameKeyInBothHeaders_IsAccepted(DatabaseKind db)
    {
        var app = await SharedApps.Get(db);
        var workspace = await app.CreateWorkspaceAsync();
        using var client = app.Client(workspace.OwnerKey);
        client.DefaultRequestHeaders.Add("X-Api-Key", workspace.OwnerKey);

        await (await client.GetAsync("/api/v1/workspaces")).ShouldBeAsync(HttpStatusCode.OK);
    }

    [Theory, AllDatabases]
    public async Task ExpiredKey_Returns401SayingWhen(DatabaseKind db)
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var app = await CadreApp.StartAsync(db, services: s => s.AddSingleton<TimeProvider>(clock));
        var workspace = await app.CreateWorkspaceAsync();
        var key = await workspace.Owner.CreateKeyAsync(workspace.Name, "editor", clock.GetUtcNow().AddHours(1));
        using var client = app.Client(key);
        await (await client.GetAsync($"/api/v1/workspaces/{workspace.Name}")).ShouldBeAsync(HttpStatusCode.OK);

        clock.Advance(TimeSpan.FromHours(1));

        (await (await client.GetAsync($"/api/v1/workspaces/{workspace.Name}")).ShouldBeProblemAsync(HttpStatusCode.Unauthorized))
            .Detail!.ShouldContain("expired");
        var listed = await (await workspace.Owner.GetAsync($"/api/v1/workspaces/{workspace.Name}/api-keys?status=expired")).ReadObjectAsync();
        ((int)listed["count"]!).ShouldBe(1);
    }

    [Theory, AllDatabases]
    public async Task DeletedWorkspacesKey_Returns401(DatabaseKind db)
    {
        var app = await SharedApps.Get(db);
        var workspace = await app.CreateWorkspaceAsync();
        using var admin = app.AdminClient();
        await (await admin.DeleteAsync($"/api/v1/workspaces/{workspace.Name}")).ShouldBeAsync(HttpStatusCode.NoContent);

        await (await workspace.Owner.GetAsync("/api/v1/workspaces")).ShouldBeProblemAsync(HttpStatusCode.Unauthorized);
    }

    [Theory, AllDatabases]
    public async Task HealthAndOpenApi_NeedNoKey(DatabaseKind db)
    {
        var app = await SharedApps.Get(db);
        using var anonymous = app.Client();

        await (await anonymous.GetAsync("/healthz")).ShouldBeAsync(HttpStatusCode.OK);
        await (await anonymous.GetAsync("/readyz")).ShouldBeAsync(HttpStatusCode.OK);
        await (await anonymous.GetAsync("/openapi/v1.json")).ShouldBeAsync(HttpStatusCode.OK);
    }
}
