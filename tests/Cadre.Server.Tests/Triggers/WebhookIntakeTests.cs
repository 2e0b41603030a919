using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using Cadre.Server.Tests.Runs;
using Cadre.Server.Tests.Workflows;
using Cadre.Storage;
using Cadre.Triggers;

namespace Cadre.Server.Tests.Triggers;

/// <summary>POST /hooks/{token}: async and sync answers, delivery de-duplication, refusals that start nothing, token rotation.</summary>
public sealed class WebhookIntakeTests
{
    private static readonly object[] EchoSteps =
    [
        new { id = "echo", activity = new { uniqueIdentifier = "transform" }, input = new { body = "{{ context.body }}", headers = "{{ context.headers }}", query = "{{ context.query }}", trigger = "{{ context.trigger }}" } },
    ];

    /// <summary>An active webhook workflow; answers its name and its hook path.</summary>
    private static async Task<(string Name, string Path)> HookAsync(TestWorkspace workspace, object[]? steps = null, object? webhook = null, bool active = true)
    {
        var name = await workspace.CreateFlowAsync(steps ?? EchoSteps, new { type = "webhook", trigger = new { webhook = webhook ?? new { mode = "async" } } });
        if (active)
        {
            await (await workspace.Owner.PostAsync(workspace.Workflows($"/{name}/activate"), null)).ShouldBeAsync(HttpStatusCode.OK);
        }

        var token = await (await workspace.Owner.GetAsync(workspace.Workflows($"/{name}/webhook-token"))).ReadObjectAsync();
        return (name, (string)token["path"]!);
    }

    private static HttpClient Anonymous(TestWorkspace workspace) => new() { BaseAddress = workspace.Owner.BaseAddress };

    private static Task<HttpResponseMessage> CallAsync(HttpClient client, string path, string body, string contentType = "application/json", Dictionary<string, string>? headers = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new StringContent(body, Encoding.UTF8) };
        request.Content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
        foreach (var (name, value) in headers ?? [])
        {
            request.Headers.TryAddWithoutValidation(name, value);
        }

        return client.SendAsync(request);
    }

    [Theory, AllDatabases]
    public async Task Async_Answers202WithTheRun_WhoseContextHasBodyAllowedHeadersAndQuery(DatabaseKind db)
    {
        var workspace = await (await EngineApps.Get(db)).CreateWorkspaceAsync();
        var (name, path) = await HookAsync(workspace, webhook: new { mode = "async", headers = new[] { "X-Shop-Topic" } });
        using var client = Anonymous(workspace);

        var response = await CallAsync(client, path + "?page=2&tag=a&tag=b", """{"order": 7}""", headers: new()
        {
            ["X-Shop-Topic"] = "orders/create", ["Authorization"] = "Bearer secret-do-not-pass", ["X-Other"] = "hidden", ["User-Agent"] = "shop/1.0",
        });

        await response.ShouldBeAsync(HttpStatusCode.Accepted);
        var accepted = await response.ReadObjectAsync();
        response.Headers.Location!.ToString().ShouldBe((string)accepted["statusUrl"]!);
        ((bool)accepted["repeated"]!).ShouldBeFalse();
        var run = await workspace.WaitForRunAsync((string)accepted["runId"]!);
        ((string)run["workflowName"]!).ShouldBe(name);
        var echo = run["output"]!.AsObject();
        ((int)echo["body"]!["order"]!).ShouldBe(7);
        ((string)echo["headers"]!["x-shop-topic"]!).ShouldBe("orders/create");
        ((string)echo["headers"]!["user-agent"]!).ShouldBe("shop/1.0");
        echo["headers"]!.AsObject().ContainsKey("authorization").ShouldBeFalse();
        echo["headers"]!.AsObject().ContainsKey("x-other").ShouldBeFalse();
        ((string)echo["query"]!["page"]!).ShouldBe("2");
        echo["query"]!["tag"]!.AsArray().Select(t => (string)t!).ShouldBe(["a", "b"]);
        ((string)echo["trigger"]!["type"]!).ShouldBe("webhook");
        run.ToJsonString().ShouldNotContain("secret-do-not-pass");
    }

    [Theory, AllDatabases]
    public async Task Sync_AnswersWithTheRespondStep_OrTheOutput_Or502WhenTheRunFails(DatabaseKind db)
    {
        var workspace = await (await EngineApps.Get(db)).CreateWorkspaceAsync();
        var (_, respondPath) = await HookAsync(workspace,
        [
            new { id = "shape", activity = new { uniqueIdentifier = "transform" }, input = new { id = "{{ context.body.id }}", processed = true } },
            new { id = "answer", activity = new { uniqueIdentifier = "respond" }, dependsOn = new[] { "shape" }, input = new { status = 201, headers = new Dictionary<string, string> { ["X-Order"] = "{{ context.body.id }}", ["Set-Cookie"] = "session=stolen" }, body = "{{ steps.shape.output }}" } },
        ], new { mode = "sync", timeout = "10s" });
        var (_, outputPath) = await HookAsync(workspace,
            [new { id = "shape", activity = new { uniqueIdentifier = "transform" }, input = new { id = "{{ context.body.id }}", payload = "{{ context.body.payload }}", processed = true } }],
            new { mode = "sync" });
        var (_, failingPath) = await HookAsync(workspace,
            [new { id = "boom", activity = new { uniqueIdentifier = "http" }, input = new { url = "http://127.0.0.1:1/" }, retryPolicy = new { maximumAttempts = 1 } }],
            new { mode = "sync" });
        using var client = Anonymous(workspace);

        var responded = await CallAsync(client, respondPath, """{"id": 42}""");
        var output = await CallAsync(client, outputPath, """{"id": 1, "payload": "hello"}""");
        var failed = await CallAsync(client, failingPath, "{}");

        responded.StatusCode.ShouldBe(HttpStatusCode.Created);
        responded.Headers.GetValues("X-Order").Single().ShouldBe("42");
        responded.Headers.Contains("Set-Cookie").ShouldBeFalse();
        (await responded.Content.ReadAsStringAsync()).ShouldBe("""{"id":42,"processed":true}""");
        output.StatusCode.ShouldBe(HttpStatusCode.OK);
        (await output.Content.ReadAsStringAsync()).ShouldBe("""{"id":1,"payload":"hello","processed":true}""");
        await failed.ShouldBeProblemAsync(HttpStatusCode.BadGateway);
    }

    [Theory, AllDatabases]
    public async Task SameDeliveryId_AnswersTheSameRun_AndStartsOnlyOne(DatabaseKind db)
    {
        var workspace = await (await EngineApps.Get(db)).CreateWorkspaceAsync();
        var (name, path) = await HookAsync(workspace);
        using var client = Anonymous(workspace);

        var answers = await Task.WhenAll(Enumerable.Range(0, 10).Select(async _ =>
            await (await CallAsync(client, path, """{"n": 1}""", headers: new() { ["webhook-id"] = "msg_same" })).ReadObjectAsync()));

        answers.Select(a => (string)a["runId"]!).Distinct().Count().ShouldBe(1);
        answers.Count(a => !(bool)a["repeated"]!).ShouldBeLessThanOrEqualTo(1);
        (await workspace.ListAllAsync(workspace.Workflows($"/{name}/runs"))).Count.ShouldBe(1);
        var other = await (await CallAsync(client, path, """{"n": 2}""", headers: new() { ["X-GitHub-Delivery"] = "gh-1" })).ReadObjectAsync();
        ((string)other["runId"]!).ShouldNotBe((string)answers[0]["runId"]!);
    }

    [Theory, AllDatabases]
    public async Task Refusals_StartNothing(DatabaseKind db)
    {
        var workspace = await (await EngineApps.Get(db)).CreateWorkspaceAsync();
        var (name, path) = await HookAsync(workspace);
        var (inactiveName, inactivePath) = await HookAsync(workspace, active: false);
        var (signedName, signedPath) = await HookAsync(workspace, webhook: new { signature = new { style = "standard", secrets = new[] { "no-such-secret" } } });
        var manual = await workspace.CreateFlowAsync(EchoSteps);
        var manualToken = (string)(await (await workspace.Owner.GetAsync(workspace.Workflows($"/{manual}/webhook-token"))).ReadObjectAsync())["path"]!;
        using var client = Anonymous(workspace);

        await (await CallAsync(client, "/hooks/whk_nobody", "{}")).ShouldBeProblemAsync(HttpStatusCode.NotFound);
        await (await CallAsync(client, inactivePath, "{}")).ShouldBeProblemAsync(HttpStatusCode.NotFound);
        await (await CallAsync(client, manualToken, "{}")).ShouldBeProblemAsync(HttpStatusCode.NotFound);
        await (await CallAsync(client, path, "{not json")).ShouldBeProblemAsync(HttpStatusCode.BadRequest);
        await (await CallAsync(client, path, "AAAA", "application/octet-stream")).ShouldBeProblemAsync(HttpStatusCode.UnsupportedMediaType);
        (await (await CallAsync(client, signedPath, "{}", headers: new() { ["webhook-id"] = "msg_1", ["webhook-timestamp"] = "1", ["webhook-signature"] = "v1,AAAA" }))
            .ShouldBeProblemAsync(HttpStatusCode.Unauthorized)).Detail!.ShouldContain("signing secrets");
        await (await CallAsync(client, path, "{}", headers: new() { ["webhook-id"] = new string('x', 201) })).ShouldBeProblemAsync(HttpStatusCode.BadRequest);

        foreach (var workflow in new[] { name, inactiveName, signedName, manual })
        {
            (await workspace.ListAllAsync(workspace.Workflows($"/{workflow}/runs"))).ShouldBeEmpty();
        }

        // Forms and text are read too.
        var form = await CallAsync(client, path, "a=1&b=two+words&a=3", "application/x-www-form-urlencoded");
        var formRun = await workspace.WaitForRunAsync((string)(await form.ReadObjectAsync())["runId"]!);
        formRun["output"]!["body"]!.ToJsonString().ShouldBe("""{"a":["1","3"],"b":"two words"}""");
    }

    [Theory, AllDatabases]
    public async Task SignedInBrowser_CanCallAWebhook_WithoutACsrfToken(DatabaseKind db)
    {
        var app = await EngineApps.Get(db);
        var workspace = await app.CreateWorkspaceAsync();
        var (_, path) = await HookAsync(workspace);
        using var browser = await app.SignInAsync(await app.CreateUserAsync());

        var response = await CallAsync(browser.Client, path, """{"from": "a browser"}""");

        response.StatusCode.ShouldBe(HttpStatusCode.Accepted);
    }

    [Theory, AllDatabases]
    public async Task Rotation_EndsTheOldTokenAtOnce_OrAfterItsGracePeriod(DatabaseKind db)
    {
        var workspace = await (await EngineApps.Get(db)).CreateWorkspaceAsync();
        var (name, first) = await HookAsync(workspace);
        using var client = Anonymous(workspace);

        var graced = await (await workspace.Owner.PostJsonAsync(workspace.Workflows($"/{name}/webhook-token/rotate"), new { gracePeriod = "1h" })).ReadObjectAsync();
        var second = (string)graced["path"]!;
        graced["previousValidUntil"].ShouldNotBeNull();
        (await CallAsync(client, first, "{}")).StatusCode.ShouldBe(HttpStatusCode.Accepted);
        (await CallAsync(client, second, "{}")).StatusCode.ShouldBe(HttpStatusCode.Accepted);

        var rotated = await (await workspace.Owner.PostAsync(workspace.Workflows($"/{name}/webhook-token/rotate"), null)).ReadObjectAsync();

        await (await CallAsync(client, first, "{}")).ShouldBeProblemAsync(HttpStatusCode.NotFound);
        await (await CallAsync(client, second, "{}")).ShouldBeProblemAsync(HttpStatusCode.NotFound);
        (await CallAsync(client, (string)rotated["path"]!, "{}")).StatusCode.ShouldBe(HttpStatusCode.Accepted);
        (await (await workspace.Owner.PostJsonAsync(workspace.Workflows($"/{name}/webhook-token/rotate"), new { gracePeriod = "30d" }))
            .ShouldBeProblemAsync(HttpStatusCode.UnprocessableEntity)).Errors!.Keys.ShouldContain("gracePeriod");
    }

    private static async Task SecretAsync(TestWorkspace workspace, string name, string value) =>
        await (await workspace.Owner.PostJsonAsync($"/api/v1/workspaces/{workspace.Name}/secrets", new { name, value })).ShouldBeAsync(HttpStatusCode.Created);

    [Theory, AllDatabases]
    public async Task Signatures_EachStyleAcceptsAGoodOne_AndRefusesMissingBadStaleAndFutureOnes(DatabaseKind db)
    {
        var workspace = await (await EngineApps.Get(db)).CreateWorkspaceAsync();
        const string Current = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
        const string Previous = "whsec_b2xkIHNlY3JldCBvbGQgc2VjcmV0";
        await SecretAsync(workspace, "signing", Current);
        await SecretAsync(workspace, "signing-old", Previous);
        var (standardName, standard) = await HookAsync(workspace, webhook: new { signature = new { style = "standard", secrets = new[] { "signing", "signing-old" } } });
        var (githubName, github) = await HookAsync(workspace, webhook: new { signature = new { style = "github", secrets = new[] { "signing" } } });
        var (stripeName, stripe) = await HookAsync(workspace, webhook: new { signature = new { style = "stripe", secrets = new[] { "signing" } } });
        using var client = Anonymous(workspace);
        const string Body = "{\"id\": \"evt_1\", \"amount\": 5}";
        var bytes = Encoding.UTF8.GetBytes(Body);
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        Dictionary<string, string> Standard(string secret, long at, string id = "msg_1") => new()
        {
            ["webhook-id"] = id, ["webhook-timestamp"] = at.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["webhook-signature"] = WebhookSignatures.SignStandard(secret, id, at, bytes),
        };

        (await CallAsync(client, standard, Body, headers: Standard(Current, now))).StatusCode.ShouldBe(HttpStatusCode.Accepted);
        (await CallAsync(client, standard, Body, headers: Standard(Previous, now, "msg_2"))).StatusCode.ShouldBe(HttpStatusCode.Accepted);
        (await CallAsync(client, github, Body, headers: new() { ["X-Hub-Signature-256"] = WebhookSignatures.SignGitHub(Current, bytes) })).StatusCode.ShouldBe(HttpStatusCode.Accepted);
        var stripeHeaders = new Dictionary<string, string> { ["Stripe-Signature"] = WebhookSignatures.SignStripe(Current, now, bytes) };
        var first = await (await CallAsync(client, stripe, Body, headers: stripeHeaders)).ReadObjectAsync();
        var again = await (await CallAsync(client, stripe, Body, headers: stripeHeaders)).ReadObjectAsync();
        ((string)again["runId"]!).ShouldBe((string)first["runId"]!, "Stripe retries carry the event's id in the body");

        foreach (var (path, headers) in new (string, Dictionary<string, string>)[]
        {
            (standard, []),
            (standard, Standard("whsec_d3Jvbmcgc2VjcmV0IGZvciB0ZXN0cw==", now, "msg_3")),
            (standard, Standard(Current, now - 600, "msg_4")),
            (standard, Standard(Current, now + 600, "msg_5")),
            (github, new() { ["X-Hub-Signature-256"] = WebhookSignatures.SignGitHub("wrong", bytes) }),
            (github, []),
            (stripe, new() { ["Stripe-Signature"] = WebhookSignatures.SignStripe(Current, now - 600, bytes) }),
            (stripe, new() { ["Stripe-Signature"] = "t=1,v1=00" }),
        })
        {
            await (await CallAsync(client, path, Body, headers: headers)).ShouldBeProblemAsync(HttpStatusCode.Unauthorized);
        }

        (await workspace.ListAllAsync(workspace.Workflows($"/{standardName}/runs"))).Count.ShouldBe(2);
        (await workspace.ListAllAsync(workspace.Workflows($"/{githubName}/runs"))).Count.ShouldBe(1);
        (await workspace.ListAllAsync(workspace.Workflows($"/{stripeName}/runs"))).Count.ShouldBe(1);

        // Deleting the secret closes the door: nothing gets in without a secret to check against.
        await (await workspace.Owner.DeleteAsync($"/api/v1/workspaces/{workspace.Name}/secrets/signing")).ShouldBeAsync(HttpStatusCode.NoContent);
        await (await CallAsync(client, github, Body, headers: new() { ["X-Hub-Signature-256"] = WebhookSignatures.SignGitHub(Current, bytes) }))
            .ShouldBeProblemAsync(HttpStatusCode.Unauthorized);
    }

    [Theory, AllDatabases]
    public async Task SignatureSettings_AreValidated(DatabaseKind db)
    {
        var workspace = await (await EngineApps.Get(db)).CreateWorkspaceAsync();
        var body = WorkflowApi.Body(Api.UniqueName("hook"), new
        {
            type = "webhook",
            trigger = new { webhook = new { signature = new { style = "md5", secrets = Array.Empty<string>(), tolerance = "2h" }, headers = new[] { "Authorization", "bad header" } } },
        });

        var problem = await (await workspace.Owner.PostAsync(workspace.Workflows(), Api.JsonContent(body))).ShouldBeProblemAsync(HttpStatusCode.UnprocessableEntity);

        problem.Errors!.Keys.ShouldBe(
            ["trigger.webhook.signature.style", "trigger.webhook.signature.secrets", "trigger.webhook.signature.tolerance", "trigger.webhook.headers[0]", "trigger.webhook.headers[1]"],
            ignoreOrder: true);
    }
}
