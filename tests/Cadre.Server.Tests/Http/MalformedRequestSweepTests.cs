using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Cadre.Server.Auth;
using Cadre.Storage;

namespace Cadre.Server.Tests.Http;

/// <summary>
/// Throws malformed requests at every endpoint the server maps and requires a 4xx problem (or a
/// success) for each: never a 500, never a hang, never another content type for an error.
/// </summary>
public sealed class MalformedRequestSweepTests
{
    private static readonly string[] Bodies =
    [
        "{",
        "}",
        "[]",
        "null",
        "\"a string\"",
        "12345678901234567890123456789",
        "true",
        """{"name": 5, "displayName": [], "settings": "no", "role": {}, "expiresAt": 12}""",
        """{"name": null, "role": null, "expiresAt": null, "settings": null}""",
        """{"expiresAt": "31/12/2030", "role": "VIEWER"}""",
        """{"unknownField": {"deep": [1, 2, 3]}}""",
        """{"name": "\u0000\u0001", "displayName": "\uD800"}""",
        """{"name": "x", "name": "y"}""",
        """{"name": "nulls", "items": [null], "parameters": [null], "examples": [null], "tags": [null], "skills": [null], "changes": null, "version": null}""",
        """{"items": [{"persona": null, "changes": {"parameters": [null]}}], "expectedVersion": 1, "changes": {"parameters": [null]}}""",
        new string('[', 5000) + new string(']', 5000),
        "{\"settings\":" + string.Concat(Enumerable.Repeat("{\"a\":", 200)) + "1" + new string('}', 200) + "}",
        $$"""{"name": "{{new string('a', 500_000)}}", "displayName": "{{new string('b', 400_000)}}"}""",
    ];

    private static readonly string[] Queries =
    [
        "limit=abc", "limit=99999999999999999999", "limit=0", "limit=", "cursor=%FF%FE", "cursor=" + new string('A', 5000),
        "status=%00", "role=" + new string('r', 3000), "limit=1&limit=2",
        // Search syntax must never reach the full-text engine as operators.
        "q=%22%20OR%20*%20NEAR(%20-%20%5E", "q=" + new string('"', 300), "sort=bogus", "sort=-", "format=xml", "from=0&to=-1",
    ];

    [Theory, AllDatabases]
    public async Task EveryEndpoint_MalformedInput_AnswersWithout5xx(DatabaseKind db)
    {
        var app = await SharedApps.Get(db);
        var workspace = await app.CreateWorkspaceAsync();
        var keys = await (await workspace.Owner.GetAsync($"/api/v1/workspaces/{workspace.Name}/api-keys")).ReadObjectAsync();
        var keyId = (string)keys["results"]![0]!["id"]!;
        var accountId = (string)keys["results"]![0]!["owner"]!["id"]!;
        var persona = await (await workspace.Owner.PostAsync($"/api/v1/workspaces/{workspace.Name}/personas",
            Api.JsonContent(new { name = "sweep", instructions = "You help {{ params.who }}.", parameters = new[] { new { name = "who", type = "string" } } }))).ReadObjectAsync();
        var workflow = await (await workspace.Owner.PostAsync($"/api/v1/workspaces/{workspace.Name}/workflows",
            Api.JsonContent(Workflows.WorkflowApi.Body("sweep")))).ReadObjectAsync();
        var quick = Workflows.WorkflowApi.Body("sweep-quick");
        quick["steps"] = JsonNode.Parse("""[{"id": "only", "activity": {"uniqueIdentifier": "transform"}, "input": {"n": 1}}]""");
        await (await workspace.Owner.PostAsync($"/api/v1/workspaces/{workspace.Name}/workflows", Api.JsonContent(quick))).ShouldBeAsync(HttpStatusCode.Created);
        var run = await (await workspace.Owner.PostAsync($"/api/v1/workspaces/{workspace.Name}/workflows/sweep-quick/runs", Api.JsonContent(new { }))).ReadObjectAsync();
        var ids = new Dictionary<string, string>
        {
            ["keyId"] = keyId, ["serviceAccountId"] = accountId, ["persona"] = (string)persona["id"]!, ["workflow"] = (string)workflow["id"]!, ["version"] = "1",
            ["run"] = (string)run["id"]!,
        };
        var routes = EndpointCatalog.All(app);
        routes.Count.ShouldBeGreaterThan(8);
        var failures = new List<string>();

        foreach (var route in routes)
        {
            var path = EndpointCatalog.Fill(route.Pattern, workspace.Name, ids);
            foreach (var request in MalformedRequests(route, path, workspace.Name, keyId, accountId))
            {
                var description = $"{request.Method} {Shorten(request.RequestUri!.ToString())} {Shorten(request.Content is null ? "" : await request.Content.ReadAsStringAsync())}";
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
                HttpResponseMessage response;
                try
                {
                    // Headers only: a stream that answers 200 goes on for as long as the run (or workspace) lives.
                    response = await workspace.Owner.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
                }
                catch (HttpRequestException ex)
                {
                    failures.Add($"{description} → {ex.Message} {ex.InnerException?.Message}");
                    continue;
                }

                var status = (int)response.StatusCode;
                var mediaType = response.Content.Headers.ContentType?.MediaType;
                if (status >= 500 || (status >= 400 && mediaType != "application/problem+json"))
                {
                    failures.Add($"{description} → {status} {mediaType}: {Shorten(await response.Content.ReadAsStringAsync(timeout.Token))}");
                }

                response.Dispose();
            }
        }

        failures.ShouldBeEmpty(string.Join('\n', failures));
        await (await workspace.Owner.GetAsync($"/api/v1/workspaces/{workspace.Name}")).ShouldBeAsync(HttpStatusCode.OK);
    }

    [Theory, AllDatabases]
    public async Task EveryProtectedEndpoint_WithoutKey_Returns401(DatabaseKind db)
    {
        var app = await SharedApps.Get(db);
        var workspace = await app.CreateWorkspaceAsync();
        using var anonymous = app.Client();

        foreach (var route in EndpointCatalog.All(app).Where(r => r.Endpoint.Metadata.GetMetadata<AccessMetadata>()?.Level != AccessLevel.Public))
        {
            var request = new HttpRequestMessage(new HttpMethod(route.Method), EndpointCatalog.Fill(route.Pattern, workspace.Name));
            if (route.HasBody)
            {
                request.Content = Api.JsonContent(new { name = Api.UniqueName(), role = "viewer" });
            }

            var response = await anonymous.SendAsync(request);

            (await response.ShouldBeProblemAsync(HttpStatusCode.Unauthorized)).Detail.ShouldNotBeNull(route.ToString());
        }
    }

    [Theory, AllDatabases]
    public async Task PathWithNul_IsRefusedBeforeRouting(DatabaseKind db)
    {
        var app = await SharedApps.Get(db);
        using var admin = app.AdminClient();

        var response = await admin.GetAsync("/api/v1/workspaces/%00");

        // Kestrel answers a bare 400 at the protocol level, before any middleware could write a problem body.
        response.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
    }

    private static IEnumerable<HttpRequestMessage> MalformedRequests(EndpointCatalog.Route route, string path, string workspace, string keyId, string accountId)
    {
        var method = new HttpMethod(route.Method);
        if (route.HasBody)
        {
            foreach (var body in Bodies)
            {
                yield return new HttpRequestMessage(method, path) { Content = new StringContent(body, Encoding.UTF8, "application/json") };
            }

            yield return new HttpRequestMessage(method, path) { Content = new ByteArrayContent([0xC3, 0x28, 0xFF, 0xFE]) { Headers = { { "Content-Type", "application/json" } } } };
            yield return new HttpRequestMessage(method, path) { Content = new StringContent("name=x", Encoding.UTF8, "application/x-www-form-urlencoded") };
            yield return new HttpRequestMessage(method, path) { Content = new ByteArrayContent([]) };
            // Expect: 100-continue, so the server's early 413 reaches the client before it writes the body. Only where a
            // body is read: an action without one answers without reading it, and Kestrel then drops the connection
            // rather than drain megabytes, which the client sees as a broken pipe.
            if (route.Endpoint.Metadata.GetMetadata<Microsoft.AspNetCore.Http.Metadata.IAcceptsMetadata>() is not null)
            {
                yield return new HttpRequestMessage(method, path)
                {
                    Content = new StringContent(new string('x', 3 * 1024 * 1024), Encoding.UTF8, "application/json"),
                    Headers = { ExpectContinue = true },
                };
            }
        }
        else if (route.Method == "DELETE")
        {
            // Only refused deletions: a well-formed one would remove what the rest of the sweep needs.
            var request = new HttpRequestMessage(method, path.Replace(keyId, "key_unknown", StringComparison.Ordinal).Replace(accountId, "sa_unknown", StringComparison.Ordinal));
            request.Headers.TryAddWithoutValidation("If-Match", "\"999\"");
            yield return request;
        }

        foreach (var query in Queries)
        {
            if (route.Method == "GET")
            {
                yield return new HttpRequestMessage(method, $"{path}?{query}");
            }
        }

        if (path.Contains(workspace, StringComparison.Ordinal))
        {
            // (A NUL in the path never reaches Cadre: Kestrel refuses the request line itself; see PathWithNul_IsRefusedBeforeRouting.)
            foreach (var badName in new[] { "%C3%28", new string('w', 2000), "..", "UPPER", "%2Fetc%2Fpasswd" })
            {
                var request = new HttpRequestMessage(method, path.Replace(workspace, badName, StringComparison.Ordinal));
                if (route.HasBody)
                {
                    request.Content = Api.JsonContent(new { displayName = "x", name = "x", role = "viewer" });
                }

                yield return request;
            }
        }
    }

    private static string Shorten(string text) => text.Length <= 120 ? text : text[..120] + "…";
}
