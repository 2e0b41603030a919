using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Cadre.Storage;

namespace Cadre.Server.Tests.Http;

/// <summary>Each error status of the API conventions, answered as an RFC 9457 problem that changes nothing.</summary>
public sealed class ErrorResponseTests
{
    [Theory]
    [AllDatabases("{", "body")]
    [AllDatabases("""{"name": 5}""", "name")]
    [AllDatabases("""{"name": "abc", "settings": [1]}""", "settings")]
    [AllDatabases("""{"name": "abc", "displayName": {"a": 1}}""", "displayName")]
    [AllDatabases("[]", "body")]
    [AllDatabases("\"text\"", "body")]
    [AllDatabases("null", "body")]
    [AllDatabases("", "body")]
    [AllDatabases("""{"name": "abc", "colour": "blue"}""", "colour")]
    [AllDatabases("""{"name": "abc",}""", "body")]
    public async Task MalformedBody_Returns400NamingTheField(DatabaseKind db, string body, string field)
    {
        var app = await SharedApps.Get(db);
        using var admin = app.AdminClient();

        var response = await admin.PostAsync("/api/v1/workspaces", new StringContent(body, Encoding.UTF8, "application/json"));

        var problem = await response.ShouldBeProblemAsync(HttpStatusCode.BadRequest);
        problem.Errors!.Keys.ShouldContain(field);
        problem.Errors[field].ShouldAllBe(message => !message.Contains("System.", StringComparison.Ordinal));
    }

    [Theory, AllDatabases]
    public async Task WrongTypeInNestedRequest_SaysTheExpectedJsonType(DatabaseKind db)
    {
        var app = await SharedApps.Get(db);
        var workspace = await app.CreateWorkspaceAsync();

        var response = await workspace.Owner.PostJsonAsync($"/api/v1/workspaces/{workspace.Name}/service-accounts", """{"name":"x","role":{"level":1}}""");

        (await response.ShouldBeProblemAsync(HttpStatusCode.BadRequest)).Errors!["role"].Single().ShouldBe("Must be a string.");
        var me = await (await workspace.Owner.PostJsonAsync("/api/v1/me/api-keys", """{"name":"x","expiresAt":"next week"}""")).ShouldBeProblemAsync(HttpStatusCode.BadRequest);
        me.Errors!["expiresAt"].Single().ShouldContain("ISO-8601");
    }

    [Theory]
    [AllDatabases("text/plain")]
    [AllDatabases("application/xml")]
    [AllDatabases("application/x-www-form-urlencoded")]
    public async Task WrongContentType_Returns415(DatabaseKind db, string contentType)
    {
        var app = await SharedApps.Get(db);
        using var admin = app.AdminClient();
        var name = Api.UniqueName();

        var response = await admin.PostAsync("/api/v1/workspaces", new StringContent($$"""{"name":"{{name}}"}""", Encoding.UTF8, contentType));

        (await response.ShouldBeProblemAsync(HttpStatusCode.UnsupportedMediaType)).Detail!.ShouldContain("application/json");
        await (await admin.GetAsync($"/api/v1/workspaces/{name}")).ShouldBeProblemAsync(HttpStatusCode.NotFound);
    }

    [Theory, AllDatabases]
    public async Task UnknownCharset_Returns415(DatabaseKind db)
    {
        // Found by the fuzzing battery (item 7): the JSON reader threw, and the answer was a 500.
        var app = await SharedApps.Get(db);
        using var admin = app.AdminClient();
        var name = Api.UniqueName();
        var content = new StringContent($$"""{"name":"{{name}}"}""", Encoding.UTF8);
        content.Headers.Remove("Content-Type");
        content.Headers.TryAddWithoutValidation("Content-Type", "application/json; charset=bogus");

        var response = await admin.PostAsync("/api/v1/workspaces", content);

        (await response.ShouldBeProblemAsync(HttpStatusCode.UnsupportedMediaType)).Detail!.ShouldContain("bogus");
        await (await admin.GetAsync($"/api/v1/workspaces/{name}")).ShouldBeProblemAsync(HttpStatusCode.NotFound);
    }

    [Theory, AllDatabases]
    public async Task BodyOverLimit_WithContentLength_Returns413BeforeReadingIt(DatabaseKind db)
    {
        var app = await SharedApps.Get(db);
        using var admin = app.AdminClient();
        var name = Api.UniqueName();
        var body = Api.Serialize(new { name, settings = new { blob = new string('x', 2 * 1024 * 1024) } });
        var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/workspaces") { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        // The client waits for the server's go-ahead, so the 413 provably comes before a byte of the body is read.
        request.Headers.ExpectContinue = true;

        var response = await admin.SendAsync(request);

        (await response.ShouldBeProblemAsync(HttpStatusCode.RequestEntityTooLarge)).Detail!.ShouldContain("MaxRequestBodyBytes");
        await (await admin.GetAsync($"/api/v1/workspaces/{name}")).ShouldBeProblemAsync(HttpStatusCode.NotFound);
    }

    [Theory, AllDatabases]
    public async Task BodyOverLimit_Chunked_Returns413(DatabaseKind db)
    {
        // A small limit keeps the whole request inside the socket buffers, so the client has sent it
        // all before the server answers and closes: no broken pipe on the client side.
        await using var app = await CadreApp.StartAsync(db, new Dictionary<string, string?> { ["Cadre:Http:MaxRequestBodyBytes"] = "2048" });
        using var admin = app.AdminClient();
        var name = Api.UniqueName();
        var bytes = Encoding.UTF8.GetBytes(Api.Serialize(new { name, settings = new { blob = new string('x', 8 * 1024) } }));
        var content = new StreamContent(new MemoryStream(bytes));
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/workspaces") { Content = content };
        request.Headers.TransferEncodingChunked = true;

        var response = await admin.SendAsync(request);

        await response.ShouldBeProblemAsync(HttpStatusCode.RequestEntityTooLarge);
        await (await admin.GetAsync($"/api/v1/workspaces/{name}")).ShouldBeProblemAsync(HttpStatusCode.NotFound);
    }

    [Theory, AllDatabases]
    public async Task BodyOverConfiguredLimit_Returns413(DatabaseKind db)
    {
        await using var app = await CadreApp.StartAsync(db, new Dictionary<string, string?> { ["Cadre:Http:MaxRequestBodyBytes"] = "2048" });
        using var admin = app.AdminClient();

        var small = await admin.PostJsonAsync("/api/v1/workspaces", new { name = Api.UniqueName() });
        var large = await admin.PostJsonAsync("/api/v1/workspaces", new { name = Api.UniqueName(), settings = new { blob = new string('x', 4096) } });

        await small.ShouldBeAsync(HttpStatusCode.Created);
        await large.ShouldBeProblemAsync(HttpStatusCode.RequestEntityTooLarge);
    }

    [Theory, AllDatabases]
    public async Task RateLimitExceeded_Returns429WithRetryAfterPerKey(DatabaseKind db)
    {
        await using var app = await CadreApp.StartAsync(db, new Dictionary<string, string?>
        {
            ["Cadre:RateLimit:PermitsPerSecond"] = "1",
            ["Cadre:RateLimit:Burst"] = "3",
        });
        using var admin = app.AdminClient();
        var statuses = new List<HttpStatusCode>();
        HttpResponseMessage? limited = null;
        for (var i = 0; i < 10 && limited is null; i++)
        {
            var response = await admin.GetAsync("/api/v1/workspaces");
            statuses.Add(response.StatusCode);
            if (response.StatusCode == HttpStatusCode.TooManyRequests)
            {
                limited = response;
            }
        }

        limited.ShouldNotBeNull($"no 429 after {statuses.Count} requests: {string.Join(", ", statuses)}");
        (await limited.ShouldBeProblemAsync(HttpStatusCode.TooManyRequests)).Detail!.ShouldContain("Retry after");
        limited.Headers.RetryAfter!.Delta!.Value.TotalSeconds.ShouldBeGreaterThanOrEqualTo(1);
        // Health probes are exempt, so an orchestrator never restarts a busy node.
        using var anonymous = app.Client();
        for (var i = 0; i < 10; i++)
        {
            await (await anonymous.GetAsync("/healthz")).ShouldBeAsync(HttpStatusCode.OK);
        }
    }

    [Theory, AllDatabases]
    public async Task RateLimit_IsPerKey(DatabaseKind db)
    {
        await using var app = await CadreApp.StartAsync(db, new Dictionary<string, string?>
        {
            ["Cadre:RateLimit:PermitsPerSecond"] = "1",
            ["Cadre:RateLimit:Burst"] = "5",
        });
        var workspace = await app.CreateWorkspaceAsync();
        using var admin = app.AdminClient();
        var limited = false;
        for (var i = 0; i < 20 && !limited; i++)
        {
            limited = (await admin.GetAsync("/api/v1/workspaces")).StatusCode == HttpStatusCode.TooManyRequests;
        }

        limited.ShouldBeTrue();

        await (await workspace.Owner.GetAsync($"/api/v1/workspaces/{workspace.Name}")).ShouldBeAsync(HttpStatusCode.OK);
    }

    [Theory]
    [AllDatabases("/api/nothing-here")]
    [AllDatabases("/api/v2/workspaces")]
    public async Task UnknownPath_Returns404Problem(DatabaseKind db, string path)
    {
        var app = await SharedApps.Get(db);
        using var admin = app.AdminClient();

        await (await admin.GetAsync(path)).ShouldBeProblemAsync(HttpStatusCode.NotFound);
    }

    [Theory, AllDatabases]
    public async Task WrongMethod_Returns405Problem(DatabaseKind db)
    {
        var app = await SharedApps.Get(db);
        using var admin = app.AdminClient();

        await (await admin.PutAsync("/api/v1/workspaces", Api.JsonContent(new { }))).ShouldBeProblemAsync(HttpStatusCode.MethodNotAllowed);
    }
}
