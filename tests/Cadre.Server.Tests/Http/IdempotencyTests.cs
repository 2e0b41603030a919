using System.Net;
using System.Text.Json.Nodes;
using Cadre.Storage;

namespace Cadre.Server.Tests.Http;

public sealed class IdempotencyTests
{
    [Theory, AllDatabases]
    public async Task SameKeySameBody_ReplaysFirstResponseAndCreatesOnce(DatabaseKind db)
    {
        var app = await SharedApps.Get(db);
        using var admin = app.AdminClient();
        var name = Api.UniqueName();
        var key = Guid.NewGuid().ToString();

        var first = await SendAsync(admin, key, new { name });
        var second = await SendAsync(admin, key, new { name });

        await first.ShouldBeAsync(HttpStatusCode.Created);
        await second.ShouldBeAsync(HttpStatusCode.Created);
        second.Headers.GetValues("Idempotent-Replayed").ShouldBe(["true"]);
        first.Headers.Contains("Idempotent-Replayed").ShouldBeFalse();
        (await second.Content.ReadAsStringAsync()).ShouldBe(await first.Content.ReadAsStringAsync());
        second.Headers.Location.ShouldBe(first.Headers.Location);
        second.Headers.ETag.ShouldBe(first.Headers.ETag);
        second.Content.Headers.ContentType!.MediaType.ShouldBe("application/json");
        var all = await (await admin.GetAsync("/api/v1/workspaces?limit=100")).ReadObjectAsync();
        all["results"]!.AsArray().Count(w => (string)w!["name"]! == name).ShouldBe(1);
    }

    [Theory, AllDatabases]
    public async Task SameKeyOtherBody_Returns409AndCreatesNothing(DatabaseKind db)
    {
        var app = await SharedApps.Get(db);
        using var admin = app.AdminClient();
        var key = Guid.NewGuid().ToString();
        await (await SendAsync(admin, key, new { name = Api.UniqueName() })).ShouldBeAsync(HttpStatusCode.Created);
        var otherName = Api.UniqueName();

        var response = await SendAsync(admin, key, new { name = otherName });

        (await response.ShouldBeProblemAsync(HttpStatusCode.Conflict)).Detail!.ShouldContain("different request");
        await (await admin.GetAsync($"/api/v1/workspaces/{otherName}")).ShouldBeProblemAsync(HttpStatusCode.NotFound);
    }

    [Theory, AllDatabases]
    public async Task KeyOfRefusedRequest_CanBeReusedAfterFixingIt(DatabaseKind db)
    {
        var app = await SharedApps.Get(db);
        using var admin = app.AdminClient();
        var key = Guid.NewGuid().ToString();

        await (await SendAsync(admin, key, new { name = "Not Valid" })).ShouldBeProblemAsync(HttpStatusCode.UnprocessableEntity);
        var fixedResponse = await SendAsync(admin, key, new { name = Api.UniqueName() });

        await fixedResponse.ShouldBeAsync(HttpStatusCode.Created);
        fixedResponse.Headers.Contains("Idempotent-Replayed").ShouldBeFalse();
    }

    [Theory, AllDatabases]
    public async Task SameKeyFromAnotherApiKey_IsIndependent(DatabaseKind db)
    {
        var app = await SharedApps.Get(db);
        using var admin = app.AdminClient();
        var otherAdminKey = await CreateSecondAdminKeyAsync(app);
        using var otherAdmin = app.Client(otherAdminKey);
        var key = Guid.NewGuid().ToString();

        await (await SendAsync(admin, key, new { name = Api.UniqueName() })).ShouldBeAsync(HttpStatusCode.Created);
        var response = await SendAsync(otherAdmin, key, new { name = Api.UniqueName() });

        await response.ShouldBeAsync(HttpStatusCode.Created);
        response.Headers.Contains("Idempotent-Replayed").ShouldBeFalse();
    }

    [Theory]
    [AllDatabases("")]
    [AllDatabases("has space")]
    public async Task InvalidKey_Returns400(DatabaseKind db, string key)
    {
        var app = await SharedApps.Get(db);
        using var admin = app.AdminClient();
        var name = Api.UniqueName();

        var response = await SendAsync(admin, key, new { name });

        (await response.ShouldBeProblemAsync(HttpStatusCode.BadRequest)).Errors!.Keys.ShouldBe(["Idempotency-Key"]);
        await (await admin.GetAsync($"/api/v1/workspaces/{name}")).ShouldBeProblemAsync(HttpStatusCode.NotFound);
    }

    [Theory, AllDatabases]
    public async Task TwoKeyHeaders_Return400(DatabaseKind db)
    {
        var app = await SharedApps.Get(db);
        using var admin = app.AdminClient();
        var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/workspaces") { Content = Api.JsonContent(new { name = Api.UniqueName() }) };
        request.Headers.TryAddWithoutValidation("Idempotency-Key", ["one", "two"]);

        var response = await admin.SendAsync(request);

        await response.ShouldBeProblemAsync(HttpStatusCode.BadRequest);
    }

    [Theory, AllDatabases]
    public async Task KeyTooLong_Returns400(DatabaseKind db)
    {
        var app = await SharedApps.Get(db);
        using var admin = app.AdminClient();

        var response = await SendAsync(admin, new string('k', 256), new { name = Api.UniqueName() });

        await response.ShouldBeProblemAsync(HttpStatusCode.BadRequest);
    }

    [Theory, AllDatabases]
    public async Task Replay_SurvivesARestart(DatabaseKind db)
    {
        var first = await CadreApp.StartAsync(db);
        var key = Guid.NewGuid().ToString();
        var name = Api.UniqueName();
        string body;
        using (var admin = first.AdminClient())
        {
            var response = await SendAsync(admin, key, new { name });
            await response.ShouldBeAsync(HttpStatusCode.Created);
            body = await response.Content.ReadAsStringAsync();
        }

        await first.DisposeAsync();
        await using var restarted = await CadreApp.StartAsync(db, databaseSetting: first.DatabaseSetting, dataDir: first.DataDir, adminKey: first.AdminKey);
        using var again = restarted.AdminClient();

        var replay = await SendAsync(again, key, new { name });

        await replay.ShouldBeAsync(HttpStatusCode.Created);
        replay.Headers.GetValues("Idempotent-Replayed").ShouldBe(["true"]);
        (await replay.Content.ReadAsStringAsync()).ShouldBe(body);
    }

    private static Task<HttpResponseMessage> SendAsync(HttpClient client, string idempotencyKey, object body)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/workspaces") { Content = Api.JsonContent(body) };
        request.Headers.TryAddWithoutValidation("Idempotency-Key", idempotencyKey);
        return client.SendAsync(request);
    }

    /// <summary>A second instance admin key: restarting with another configured admin key registers it beside the first.</summary>
    private static async Task<string> CreateSecondAdminKeyAsync(CadreApp app)
    {
        var secondKey = "cadre_test_admin_" + Guid.NewGuid().ToString("N");
        await using var other = await CadreApp.StartAsync(app.Database, databaseSetting: app.DatabaseSetting, dataDir: app.DataDir, adminKey: secondKey);
        return secondKey;
    }
}
