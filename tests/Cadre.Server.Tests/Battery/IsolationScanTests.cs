using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Cadre.Server.Auth;
using Cadre.Server.Tests.Files;
using Cadre.Server.Tests.Http;
using Cadre.Server.Tests.Personas;
using Cadre.Server.Tests.Runs;
using Cadre.Server.Tests.Workflows;
using Cadre.Storage;
using Cadre.Auth;
using Xunit.Abstractions;

namespace Cadre.Server.Tests.Battery;

/// <summary>
/// Battery item 8: workspace B holds one of every kind of resource, each carrying a canary string; every operation of
/// the OpenAPI document is then called by workspace A's keys with B's IDs (through B's path and through A's), by every
/// role below the operation's minimum, anonymously, and through encoded and spoofed variants. Nothing may answer with
/// success, and no byte of the canary may come back in any body or header.
/// </summary>
[Trait("Battery", "8")]
public sealed partial class IsolationScanTests(ITestOutputHelper output)
{
    /// <summary>The routes anyone may call without a key, each with why. A route that answers anonymously and is not here fails the scan.</summary>
    private static readonly Dictionary<string, string> AnonymousRoutes = new()
    {
        ["GET /healthz"] = "liveness probe for orchestrators; answers only 'ok'",
        ["GET /readyz"] = "readiness probe; answers only whether the database is reachable",
        ["GET /metrics"] = "Prometheus scrape; guarded by Cadre:Metrics:ScrapeToken when the operator sets one",
        ["GET /openapi/{documentName}.json"] = "the API's description, the same for every caller",
        ["POST /api/v1/auth/login"] = "sign-in takes a password, not a key; limited per address and locked per account",
        ["GET /api/v1/auth/csrf"] = "hands a browser its CSRF token before it signs in",
        ["POST /api/v1/auth/reset-password"] = "authenticated by the single-use reset token in the body",
        ["POST /api/v1/auth/forgot-password"] = "sends a reset link to the address given; answers the same whether it exists or not",
        ["GET /api/v1/setup"] = "tells the UI whether first-run setup is still open",
        ["POST /api/v1/setup"] = "first-run setup, authenticated by the one-time setup code the server printed",
        ["POST /api/v1/invitations/preview"] = "authenticated by the invitation token in the body",
        ["POST /api/v1/invitations/accept"] = "authenticated by the invitation token in the body",
        ["POST /hooks/{token}"] = "webhook intake, authenticated by the workflow's secret token (and an optional signature)",
        ["PUT /uploads/{file}"] = "file upload, authenticated by the signed, expiring signature of its upload URL",
    };

    [Theory, AllDatabases]
    public async Task EveryOperation_OtherWorkspaceLowerRoleAnonymousAndVariants_AreRefusedAndLeakNothing(DatabaseKind db)
    {
        await using var app = await CadreApp.StartAsync(db,
            new Dictionary<string, string?>(EngineApps.Settings) { ["Cadre:Webhooks:PollInterval"] = "00:00:00.050" });
        await using var receiver = await FakeHttpServer.StartAsync(_ => Task.CompletedTask);
        var canary = "cnry" + Guid.NewGuid().ToString("N")[..12];
        var a = await app.CreateWorkspaceAsync();
        var b = await app.CreateWorkspaceAsync();
        var seeded = await SeedAsync(app, b, canary, receiver.Address);
        var personA = await app.CreateUserAsync();
        await a.AddMemberAsync(personA, "owner");
        using var browserA = await app.SignInAsync(personA);
        var personalKeyA = (string)(await (await browserA.Client.PostJsonAsync("/api/v1/me/api-keys", new { name = "scan" })).ReadObjectAsync())["key"]!;
        var scan = new Scan(canary);

        // The attack is live: B's owner reads its own resources, canary and all, on the paths the scan attacks.
        var control = await b.Owner.GetAsync($"/api/v1/workspaces/{b.Name}/personas/{seeded.Ids["persona"]}");
        (await control.Content.ReadAsStringAsync()).ShouldContain(canary);

        using var admin = app.AdminClient();
        var document = await (await admin.GetAsync("/openapi/v1.json")).ReadObjectAsync();
        var operations = Operations(document).ToList();
        var routes = EndpointCatalog.All(app).Where(r => !r.Pattern.StartsWith("/openapi", StringComparison.Ordinal) || r.Method == "GET").ToList();
        var byOperation = routes.ToDictionary(r => $"{r.Method} {Normalize(r.Pattern)}");
        var unmapped = operations.Where(o => !byOperation.ContainsKey(o)).ToList();
        var undocumented = byOperation.Keys.Where(k => !operations.Contains(k) && !k.StartsWith("GET /openapi/", StringComparison.Ordinal)).ToList();
        unmapped.ShouldBeEmpty("in the OpenAPI document but not mapped");
        undocumented.ShouldBeEmpty("mapped but not in the OpenAPI document");

        // (a) A's keys, B's IDs: through B's workspace path, and through A's. Reduced: A's owner key and a person's key; full: every role's too.
        using var ownerA = app.Client(a.OwnerKey);
        using var personalA = app.Client(personalKeyA);
        var keysOfA = new Dictionary<WorkspaceRole, HttpClient>();
        foreach (var role in new[] { WorkspaceRole.Viewer, WorkspaceRole.Operator, WorkspaceRole.Editor, WorkspaceRole.Admin })
        {
            keysOfA[role] = app.Client(await a.Owner.CreateKeyAsync(a.Name, role.ToWireName()));
        }

        (HttpClient Client, WorkspaceRole Role)[] attackers = BatteryScale.IsFull
            ? [(ownerA, WorkspaceRole.Owner), (personalA, WorkspaceRole.Owner), .. keysOfA.Select(k => (k.Value, k.Key))]
            : [(ownerA, WorkspaceRole.Owner), (personalA, WorkspaceRole.Owner)];
        foreach (var caller in new[] { ownerA, personalA })
        {
            // A's own lists, exports and streams hold nothing of B. Read first: A's audit log then records the attempts
            // below, B's names in their paths included, which is A's own record of what A sent.
            foreach (var route in routes.Where(r => r.Method == "GET" && Parameters(r.Pattern).SequenceEqual(["workspace"])))
            {
                await scan.ReadAsync(caller, route, Fill(route.Pattern, a.Name, seeded.Ids));
            }
        }

        foreach (var (caller, role) in attackers)
        {
            foreach (var route in routes.Where(r => r.Pattern.Contains("{workspace}", StringComparison.Ordinal)))
            {
                await scan.ExpectAsync(caller, route, Fill(route.Pattern, b.Name, seeded.Ids), [404], "A's key on B's path");
                // A price is keyed by the model's name, not by anything of B's: A may set and delete its own of that name.
                if (Parameters(route.Pattern).Any(p => p is not ("workspace" or "model")))
                {
                    // A role below the operation's minimum is refused before any lookup.
                    int[] refusal = route.Endpoint.Metadata.GetMetadata<AccessMetadata>()?.MinimumRole > role ? [403] : [404];
                    await scan.ExpectAsync(caller, route, Fill(route.Pattern, a.Name, seeded.Ids), refusal, "A's key, B's IDs on A's path");
                }
            }

            // Instance-wide and personal routes: B's IDs get nowhere, and the lists show nothing of B.
            foreach (var route in routes.Where(r => !r.Pattern.Contains("{workspace}", StringComparison.Ordinal) && Access(r) is not AccessLevel.Public))
            {
                if (Parameters(route.Pattern).Any())
                {
                    await scan.ExpectAsync(caller, route, Fill(route.Pattern, a.Name, seeded.Ids), [403, 404], "A's key, B's IDs");
                }
                else if (route.Method == "GET")
                {
                    await scan.ReadAsync(caller, route, route.Pattern);
                }
            }

        }

        await scan.ExpectAsync(personalA, "DELETE", $"/api/v1/me/api-keys/{seeded.PersonalKeyIdB}", [404], "A's person revokes B's person's key");

        // (b) Every role below an operation's minimum is refused, whatever the IDs.

        foreach (var route in routes)
        {
            var access = route.Endpoint.Metadata.GetMetadata<AccessMetadata>();
            if (access is { Level: AccessLevel.WorkspaceRole, MinimumRole: { } minimum })
            {
                foreach (var (role, client) in keysOfA.Where(k => k.Key < minimum))
                {
                    await scan.ExpectAsync(client, route, Fill(route.Pattern, a.Name, seeded.Ids), [403], $"role {role.ToWireName()} below {minimum.ToWireName()}");
                }
            }
            else if (access is { Level: AccessLevel.InstanceAdmin })
            {
                await scan.ExpectAsync(ownerA, route, Fill(route.Pattern, a.Name, seeded.Ids), [403], "workspace owner on an instance admin operation");
                await scan.ExpectAsync(personalA, route, Fill(route.Pattern, a.Name, seeded.Ids), [403], "person on an instance admin operation");
            }
            else if (access is { Level: AccessLevel.Person })
            {
                await scan.ExpectAsync(ownerA, route, Fill(route.Pattern, a.Name, seeded.Ids), [403], "service account on a person's operation");
            }
        }

        // (c) Anonymous: only the reviewed routes answer without a key.
        using var anonymous = app.Client();
        var answeredAnonymously = new List<string>();
        foreach (var route in routes)
        {
            var (query, body) = Scan.Input(route);
            var status = await scan.SendAsync(anonymous, route.Method, Fill(route.Pattern, a.Name, seeded.Ids) + query, body);
            if (status != 401)
            {
                answeredAnonymously.Add(route.ToString());
            }
            else
            {
                scan.CountRefusal();
            }
        }

        output.WriteLine($"allow-listed, yet 401 to a bare request: {string.Join(", ", AnonymousRoutes.Keys.Except(answeredAnonymously))}");
        answeredAnonymously.Except(AnonymousRoutes.Keys).ShouldBeEmpty("routes that answer without a key but are not on the reviewed list");
        AnonymousRoutes.Keys.Except(routes.Select(r => r.ToString())).ShouldBeEmpty("stale entries of the reviewed list");
        routes.Where(r => Access(r) is AccessLevel.Public).Select(r => r.ToString()).Except(AnonymousRoutes.Keys).ShouldBeEmpty("public routes not on the list");

        // (d) Encodings, case, dot segments and spoofed proxy headers change nothing.
        var variants = await VariantsAsync(app, scan, a, b, seeded);

        // Spoofed X-Forwarded-For does not give a client a fresh rate limit bucket.
        var (limited, throttled) = await SpoofedForwardedForAsync();

        // B is as it was: A's attempts changed nothing there.
        foreach (var (path, count) in seeded.Counts)
        {
            (await CountAsync(b.Owner, path)).ShouldBe(count, path);
        }

        BatteryReport.Write(output, 8, $"isolation scan, {db.ToString().ToLowerInvariant()}", ("operations", operations.Count), ("requests", scan.Requests), ("variants", variants),
            ("expected refusals", scan.Expected), ("got refusals", scan.Refused), ("leaks", scan.LeakedBytes), ("anonymous routes", answeredAnonymously.Count), ("allow-list", AnonymousRoutes.Count),
            ("spoofed XFF requests", limited), ("429s", throttled));
        scan.Failures.ShouldBeEmpty(string.Join('\n', scan.Failures.Take(60)));
        scan.Refused.ShouldBe(scan.Expected);
        scan.LeakedBytes.ShouldBe(0);
        operations.Count.ShouldBeGreaterThan(100);
        throttled.ShouldBeGreaterThan(0);
    }

    /// <summary>
    /// Valid bodies (and queries) for the operations that check their input before they look the resource up, so the
    /// request reaches the lookup; every other operation gets an empty JSON object.
    /// </summary>
    private static readonly Dictionary<string, (string Query, object Body)> ValidInput = new()
    {
        ["PATCH /api/v1/workspaces/{workspace}/members/{userId}"] = ("", new { role = "viewer" }),
        ["GET /api/v1/workspaces/{workspace}/personas/{persona}/diff"] = ("?from=1&to=1", new { }),
        ["POST /api/v1/workspaces/{workspace}/personas/{persona}/revert"] = ("", new { version = 1 }),
        ["PATCH /api/v1/workspaces/{workspace}/personas/{persona}/draft"] = ("", new { expectedVersion = 1, changes = new { description = "x" } }),
        ["POST /api/v1/workspaces/{workspace}/workflows/{workflow}/rename"] = ("", new { name = "renamed" }),
        ["GET /api/v1/workspaces/{workspace}/workflows/{workflow}/diff"] = ("?from=1&to=1", new { }),
        ["POST /api/v1/workspaces/{workspace}/workflows/{workflow}/revert"] = ("", new { version = 1 }),
        ["POST /api/v1/workspaces/{workspace}/runs/{run}/messages"] = ("", new { end = true }),
        ["POST /api/v1/workspaces/{workspace}/approvals/{approval}/decisions"] = ("", new { decision = "approve" }),
    };

    private static async Task<int> VariantsAsync(CadreApp app, Scan scan, TestWorkspace a, TestWorkspace b, Seeded seeded)
    {
        var persona = seeded.Ids["persona"];
        var secret = seeded.Ids["secret"];
        var upper = string.Concat(b.Name.Select((c, i) => i % 2 == 0 ? char.ToUpperInvariant(c) : c));
        string[] targets =
        [
            $"/API/V1/WORKSPACES/{b.Name}/PERSONAS/{persona}",
            $"/api/v1/workspaces/{upper}/personas/{persona}",
            $"/api/v1/workspaces/{b.Name.ToUpperInvariant()}/secrets/{secret}",
            $"/api/v1/workspaces/{a.Name}%2F..%2F{b.Name}/personas/{persona}",
            $"/api/v1/workspaces/{a.Name}/%2e%2e/{b.Name}/personas/{persona}",
            $"/api/v1/workspaces/{a.Name}/%2E%2E/%2E%2E/workspaces/{b.Name}/personas/{persona}",
            $"/api/v1/workspaces/{a.Name}/../{b.Name}/personas/{persona}",
            $"/api/v1/workspaces/{a.Name}/personas/..%2F..%2F{b.Name}%2Fpersonas%2F{persona}",
            $"/api/v1/workspaces/{a.Name}/personas/{persona}%2F..%2F..%2F..%2F{b.Name}%2Fpersonas%2F{persona}",
            $"//api/v1//workspaces//{b.Name}//personas//{persona}",
            $"/api/v1/workspaces/{b.Name}./personas/{persona}",
            $"/api/v1/workspaces/{b.Name}%2e/personas/{persona}",
            $"/api/v1/workspaces/{b.Name};x=y/personas/{persona}",
            $"/api/v1/workspaces/{a.Name};/../{b.Name}/personas/{persona}",
            $"/api/v1/workspaces/{b.Name}%20/personas/{persona}",
            $"/api/v1/workspaces/%20{b.Name}/personas/{persona}",
            $"/api/v1/workspaces/{Uri.EscapeDataString(b.Name).Replace("-", "%2D", StringComparison.Ordinal)}/personas/{persona}",
            $"/api/v1/workspaces/{b.Name}/personas/{persona}?workspace={a.Name}",
            $"/api/v1/workspaces/{a.Name}/personas/{persona}?workspace={b.Name}",
            $"/api/v1/workspaces/{b.Name}/personas/{persona}#{a.Name}",
            $"http://{b.Name}/api/v1/workspaces/{b.Name}/personas/{persona}",
        ];
        (string, string)[][] spoofs =
        [
            [],
            [("X-Forwarded-For", "127.0.0.1"), ("X-Forwarded-Proto", "https"), ("X-Forwarded-Host", "internal.example")],
            [("Forwarded", "for=127.0.0.1;proto=https;host=internal.example"), ("X-Real-IP", "127.0.0.1")],
            [("X-Original-URL", $"/api/v1/workspaces/{a.Name}"), ("X-Rewrite-URL", $"/api/v1/workspaces/{a.Name}")],
            [("X-HTTP-Method-Override", "GET"), ("X-Forwarded-Prefix", $"/api/v1/workspaces/{a.Name}")],
        ];
        var count = 0;
        foreach (var target in targets)
        {
            foreach (var headers in spoofs)
            {
                count++;
                // A's owner key: never B's data. No key at all: never past authentication.
                await scan.RawAsync(app, "GET", target, [("Authorization", $"Bearer {a.OwnerKey}"), .. headers], ok: false);
                await scan.RawAsync(app, "GET", target, headers, ok: false);
            }
        }

        // A's key on A's own path, with every spoof: the headers neither rewrite the target nor the method.
        await scan.RawAsync(app, "GET", $"/api/v1/workspaces/{a.Name}/personas",
            [("Authorization", $"Bearer {a.OwnerKey}"), ("X-Original-URL", $"/api/v1/workspaces/{b.Name}/personas"), ("X-HTTP-Method-Override", "DELETE")], ok: true);
        await scan.RawAsync(app, "GET", $"/api/v1/workspaces/{a.Name}",
            [("Authorization", $"Bearer {a.OwnerKey}"), ("X-HTTP-Method-Override", "DELETE"), ("X-Method-Override", "DELETE")], ok: true);
        await (await b.Owner.GetAsync($"/api/v1/workspaces/{b.Name}")).ShouldBeAsync(HttpStatusCode.OK);
        await (await app.Client(a.OwnerKey).GetAsync($"/api/v1/workspaces/{a.Name}")).ShouldBeAsync(HttpStatusCode.OK);
        return count;
    }

    /// <summary>Anonymous requests from one address, each claiming another in X-Forwarded-For: one bucket, so 429s come.</summary>
    private static async Task<(int Sent, int Throttled)> SpoofedForwardedForAsync()
    {
        await using var app = await CadreApp.StartAsync(DatabaseKind.Sqlite,
            new Dictionary<string, string?> { ["Cadre:RateLimit:PermitsPerSecond"] = "1", ["Cadre:RateLimit:Burst"] = "5" });
        using var client = app.Client();
        const int sent = 40;
        var throttled = 0;
        var started = TimeProvider.System.GetTimestamp();
        for (var i = 0; i < sent; i++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "/api/v1/workspaces");
            request.Headers.TryAddWithoutValidation("X-Forwarded-For", $"203.0.113.{i + 1}");
            request.Headers.TryAddWithoutValidation("Forwarded", $"for=198.51.100.{i + 1}");
            request.Headers.TryAddWithoutValidation("X-Real-IP", $"192.0.2.{i + 1}");
            using var response = await client.SendAsync(request);
            if (response.StatusCode == HttpStatusCode.TooManyRequests)
            {
                throttled++;
                response.Headers.RetryAfter.ShouldNotBeNull();
            }
            else
            {
                response.StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
            }
        }

        // The bucket holds 5 and refills 1 a second: however slow this machine, no more got through than that allows.
        var seconds = TimeProvider.System.GetElapsedTime(started).TotalSeconds;
        (sent - throttled).ShouldBeLessThanOrEqualTo(5 + (int)Math.Ceiling(seconds) + 1);
        return (sent, throttled);
    }

    /// <summary>Workspace B with one of every kind of resource, each named or filled with the canary.</summary>
    private static async Task<Seeded> SeedAsync(CadreApp app, TestWorkspace b, string canary, Uri receiver)
    {
        var w = $"/api/v1/workspaces/{b.Name}";
        var o = b.Owner;
        async Task<JsonObject> Create(string path, object body)
        {
            var response = await o.PostJsonAsync(w + path, body);
            ((int)response.StatusCode).ShouldBeInRange(200, 299, $"{path}: {await response.Content.ReadAsStringAsync()}");
            return await response.ReadObjectAsync();
        }

        await (await o.PatchJsonAsync(w, new { displayName = $"B {canary}" })).ShouldBeAsync(HttpStatusCode.OK);
        var (accountId, _) = await o.CreateServiceAccountAsync(b.Name, "viewer");
        var key = await Create($"/service-accounts/{accountId}/api-keys", new { name = $"key {canary}" });
        var person = await app.CreateUserAsync(displayName: $"person {canary}");
        await b.AddMemberAsync(person, "editor");
        using var browser = await app.SignInAsync(person);
        var personalKey = await (await browser.Client.PostJsonAsync("/api/v1/me/api-keys", new { name = $"laptop {canary}" })).ReadObjectAsync();
        var team = await Create("/teams", new { name = $"team-{canary}", description = canary });
        var invitation = await Create("/invitations", new { email = $"{canary}@example.com", role = "viewer" });
        await Create("/secrets", new { name = $"tok_{canary}", value = $"{canary}-secret-value" });
        await Create("/providers", new { name = $"prov-{canary}", kind = "mock" });
        await (await o.PutAsync($"{w}/prices/{canary}/model-1", Api.JsonContent(new { input = 1.5, output = 2 }))).ShouldBeAsync(HttpStatusCode.OK);
        await Create("/guardrails", new { name = $"guard-{canary}", kind = "deny_topic", action = "warn", config = new { phrase = canary } });
        await Create("/skills", new
        {
            name = $"skill_{canary}", kind = "http", description = canary,
            config = new { method = "GET", url = $"https://{canary}.example.com/?q={{{{ args.q }}}}", parameters = new { type = "object", properties = new { q = new { type = "string" } } } },
        });
        await Create("/event-types", new { name = $"{canary}.paid", description = canary });
        var persona = await Create("/personas", PersonaApi.Body($"persona-{canary}", new { description = canary, instructions = $"Say {canary}." }));
        var note = await Create($"/personas/{persona["id"]}/memory", new { content = $"Remembers {canary}." });

        var flow = WorkflowApi.Body($"flow-{canary}", new { description = canary });
        flow["steps"] = JsonNode.Parse($$$"""[{"id": "only", "activity": {"uniqueIdentifier": "transform"}, "input": {"said": "{{ context.body.said }}"}}]""");
        var workflow = await Create("/workflows", flow);
        var run = await Create($"/workflows/{workflow["id"]}/runs?wait=30s", new { input = new { said = canary } });
        var approvalFlow = WorkflowApi.Body($"signoff-{canary}");
        approvalFlow["steps"] = JsonNode.Parse($$$"""[{"id": "ok", "activity": {"uniqueIdentifier": "approval"}, "input": {"message": "Ship {{{canary}}}?"}, "approval": {"approvers": ["{{{accountId}}}"]}}]""");
        var signoff = await Create("/workflows", approvalFlow);
        var waiting = await Create($"/workflows/{signoff["id"]}/runs", new { });
        JsonNode? approval = null;
        await Eventually.HoldsAsync(async () =>
        {
            approval = (await (await o.GetAsync($"{w}/approvals?run={waiting["id"]}")).ReadObjectAsync())["results"]!.AsArray().FirstOrDefault();
            return approval is not null;
        }, "B's approval is asked for");
        var scheduled = WorkflowApi.Body($"yearly-{canary}", new { type = "schedule", trigger = new { cron = "0 0 1 1 *" }, isActive = true });
        scheduled["steps"] = flow["steps"]!.DeepClone();
        await Create("/workflows", scheduled);
        var hooked = WorkflowApi.Body($"hooked-{canary}", new { type = "webhook", trigger = new { webhook = new { mode = "async" } } });
        hooked["steps"] = flow["steps"]!.DeepClone();
        await Create("/workflows", hooked);

        var subscription = await Create("/webhook-subscriptions", new { url = $"{receiver}{canary}", eventTypes = new[] { $"{canary}.paid" }, description = canary });
        var ingested = await Create("/events", new { type = $"{canary}.paid", payload = new { note = canary } });
        JsonNode? delivery = null;
        await Eventually.HoldsAsync(async () =>
        {
            delivery = (await (await o.GetAsync($"{w}/deliveries")).ReadObjectAsync())["results"]!.AsArray().FirstOrDefault();
            return delivery is not null;
        }, "B's delivery is made");
        var file = await b.UploadAsync(app, $"{canary}.png", "image/png", FileApi.Png);

        var ids = new Dictionary<string, string>
        {
            ["approval"] = (string)approval!["id"]!, ["delivery"] = (string)delivery!["id"]!, ["eventType"] = $"{canary}.paid", ["event"] = (string)ingested["id"]!,
            ["file"] = file, ["fileId"] = file, ["guardrail"] = $"guard-{canary}", ["invitationId"] = (string)invitation["id"]!, ["keyId"] = (string)key["id"]!,
            ["note"] = (string)note["id"]!, ["persona"] = (string)persona["id"]!, ["provider"] = $"prov-{canary}", ["run"] = (string)run["id"]!,
            ["secret"] = $"tok_{canary}", ["serviceAccountId"] = accountId, ["skill"] = $"skill_{canary}", ["subscription"] = (string)subscription["id"]!,
            ["teamId"] = (string)team["id"]!, ["userId"] = person.Id, ["workflow"] = (string)workflow["id"]!, ["version"] = "1", ["model"] = $"{canary}/model-1",
        };
        var counts = new Dictionary<string, int>();
        foreach (var list in new[] { "personas", "workflows", "secrets", "teams", "service-accounts", "api-keys", "members", "invitations", "providers", "prices",
                     "guardrails", "skills", "event-types", "webhook-subscriptions", "files", "runs", "approvals", "events", "deliveries", $"personas/{persona["id"]}/memory" })
        {
            counts[$"{w}/{list}"] = await CountAsync(o, $"{w}/{list}");
        }

        return new Seeded(ids, (string)personalKey["id"]!, counts);
    }

    /// <summary>How many items a list holds: a page's <c>count</c>, or the length of a plain array (the registries).</summary>
    private static async Task<int> CountAsync(HttpClient client, string path)
    {
        var response = await client.GetAsync(path);
        await response.ShouldBeAsync(HttpStatusCode.OK);
        var list = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        return list is JsonArray array ? array.Count : (int)list["count"]!;
    }

    private sealed record Seeded(Dictionary<string, string> Ids, string PersonalKeyIdB, Dictionary<string, int> Counts);

    private static AccessLevel? Access(EndpointCatalog.Route route) => route.Endpoint.Metadata.GetMetadata<AccessMetadata>()?.Level;

    private static IEnumerable<string> Parameters(string pattern) => RouteParameter().Matches(pattern).Select(m => m.Groups[1].Value);

    private static string Normalize(string pattern) => RouteParameter().Replace(pattern, m => "{" + m.Groups[1].Value + "}");

    private static string Fill(string pattern, string workspace, IReadOnlyDictionary<string, string> ids) => RouteParameter().Replace(pattern, m => m.Groups[1].Value switch
    {
        "workspace" => workspace,
        "documentName" => "v1",
        var name => ids.GetValueOrDefault(name) ?? $"{name}_unknown",
    });

    private static IEnumerable<string> Operations(JsonObject document)
    {
        foreach (var (path, item) in document["paths"]!.AsObject())
        {
            foreach (var (method, _) in item!.AsObject())
            {
                yield return $"{method.ToUpperInvariant()} {path}";
            }
        }
    }

    [GeneratedRegex(@"\{\**(\w+)(:\w+)?\}")]
    private static partial Regex RouteParameter();

    /// <summary>Sends the scan's requests and keeps its account: refusals expected and got, and every byte of the canary that came back.</summary>
    private sealed class Scan(string canary)
    {
        public int Requests { get; private set; }

        public int Expected { get; private set; }

        public int Refused { get; private set; }

        public long LeakedBytes { get; private set; }

        public List<string> Failures { get; } = [];

        public void CountRefusal()
        {
            Expected++;
            Refused++;
        }

        public Task ExpectAsync(HttpClient client, EndpointCatalog.Route route, string path, int[] statuses, string what) =>
            ExpectAsync(client, route.Method, path, statuses, what, Input(route));

        public async Task ExpectAsync(HttpClient client, string method, string path, int[] statuses, string what, (string Query, object? Body) input = default)
        {
            Expected++;
            var status = await SendAsync(client, method, path + input.Query, input.Body);
            if (statuses.Contains(status))
            {
                Refused++;
            }
            else
            {
                Failures.Add($"{what}: {method} {path} → {status}, expected {string.Join('/', statuses)}");
            }
        }

        /// <summary>A read that may succeed (A's own lists): only checked for leaks.</summary>
        public async Task ReadAsync(HttpClient client, EndpointCatalog.Route route, string path) => await SendAsync(client, route.Method, path, body: null);

        public static (string Query, object? Body) Input(EndpointCatalog.Route route) =>
            ValidInput.TryGetValue(route.ToString(), out var input) ? (input.Query, route.HasBody ? input.Body : null) : ("", route.HasBody ? new { } : null);

        public async Task<int> SendAsync(HttpClient client, string method, string path, object? body)
        {
            Requests++;
            using var request = new HttpRequestMessage(new HttpMethod(method), path);
            if (body is not null)
            {
                request.Content = Api.JsonContent(body);
            }

            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            // Headers first: a stream that answers 200 goes on for as long as its run or workspace lives.
            using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
            var text = new StringBuilder(response.Headers.ToString()).Append(response.Content.Headers);
            if (response.Content.Headers.ContentType?.MediaType == "text/event-stream")
            {
                using var brief = new CancellationTokenSource(TimeSpan.FromSeconds(1));
                text.Append(await ReadUntilAsync(await response.Content.ReadAsStreamAsync(timeout.Token), brief.Token));
            }
            else
            {
                text.Append(await response.Content.ReadAsStringAsync(timeout.Token));
            }

            Check(method, path, text.ToString(), (int)response.StatusCode);
            return (int)response.StatusCode;
        }

        /// <summary>A request written byte for byte on a socket, so no client library normalizes its target first.</summary>
        public async Task RawAsync(CadreApp app, string method, string target, (string Name, string Value)[] headers, bool ok)
        {
            Requests++;
            Expected++;
            using var probe = app.Client();
            var address = probe.BaseAddress!;
            using var tcp = new TcpClient();
            await tcp.ConnectAsync(address.Host, address.Port);
            await using var stream = tcp.GetStream();
            var request = new StringBuilder($"{method} {target} HTTP/1.1\r\nHost: {address.Authority}\r\nConnection: close\r\n");
            foreach (var (name, value) in headers)
            {
                request.Append(name).Append(": ").Append(value).Append("\r\n");
            }

            await stream.WriteAsync(Encoding.ASCII.GetBytes(request.Append("\r\n").ToString()));
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            var text = await ReadUntilAsync(stream, timeout.Token);
            var status = int.Parse(text.Split(' ', 3)[1], System.Globalization.CultureInfo.InvariantCulture);
            if (ok ? status == 200 : status is >= 400 and < 500)
            {
                Refused++;
            }
            else
            {
                Failures.Add($"raw {method} {target} [{string.Join(", ", headers.Select(h => h.Name))}] → {status}");
            }

            Check(method, target, text, status);
        }

        private void Check(string method, string path, string text, int status)
        {
            // The request's own words come back in a not-found message ("Persona 'persona-cnry…' not found"): an echo, not a leak.
            foreach (var echoed in Uri.UnescapeDataString(path.Replace("+", " ", StringComparison.Ordinal)).Split('/', '?', '&', '=', ';', '#'))
            {
                if (echoed.Contains(canary, StringComparison.Ordinal))
                {
                    text = text.Replace(echoed, "", StringComparison.Ordinal);
                }
            }

            var found = Regex.Count(text, Regex.Escape(canary));
            if (found > 0)
            {
                LeakedBytes += found * canary.Length;
                Failures.Add($"leak: {method} {path} → {status} holds the canary {found}×: {text[..Math.Min(text.Length, 400)]}");
            }
        }

        private static async Task<string> ReadUntilAsync(Stream stream, CancellationToken cancellationToken)
        {
            var bytes = new MemoryStream();
            var buffer = new byte[8192];
            try
            {
                int read;
                while ((read = await stream.ReadAsync(buffer, cancellationToken)) > 0)
                {
                    bytes.Write(buffer, 0, read);
                }
            }
            catch (OperationCanceledException)
            {
                // A stream that stays open: what came so far is what is checked.
            }

            return Encoding.UTF8.GetString(bytes.ToArray());
        }
    }
}
