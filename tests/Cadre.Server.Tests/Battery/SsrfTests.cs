using System.Net;
using System.Text.Json.Nodes;
using Cadre.Server.Tests.Runs;
using Cadre.Server.Tests.Workflows;
using Cadre.Storage;
using Xunit.Abstractions;

namespace Cadre.Server.Tests.Battery;

/// <summary>
/// Battery item 10: every place a workspace can aim Cadre's outbound HTTP (the http step, the agent's
/// <c>http_request</c> tool, an http skill, an MCP skill's URL, webhook subscriptions, workflow notifications, a
/// workspace provider's base URL, http annotators) is pointed at every kind of internal address, written every way,
/// and through a redirect from a host the operator allowed. Each attempt must be refused with a clear error, and a
/// canary listening on the loopback addresses must never see a connection.
/// </summary>
[Trait("Battery", "10")]
public sealed class SsrfTests(ITestOutputHelper output)
{
    /// <summary>What every refusal by the outbound guard says.</summary>
    private const string Refusal = "private, loopback, link-local or metadata address";

    private static string Path(TestWorkspace workspace, string rest) => $"/api/v1/workspaces/{workspace.Name}/{rest}";

    /// <summary>Internal targets, each a name and a URL; <paramref name="port"/> is the canary's.</summary>
    private static List<(string Name, string Url)> Targets(int port, Uri redirector)
    {
        var targets = new List<(string, string)>
        {
            ("loopback 127.0.0.2", $"http://127.0.0.2:{port}/"),
            ("loopback ::1", $"http://[::1]:{port}/"),
            ("unspecified 0.0.0.0", $"http://0.0.0.0:{port}/"),
            ("private 10/8", $"http://10.0.0.1:{port}/"),
            ("private 172.16/12", $"http://172.31.255.1:{port}/"),
            ("private 192.168/16", $"http://192.168.1.1:{port}/"),
            ("unique-local fc00::/7", $"http://[fd00::1]:{port}/"),
            ("link-local 169.254/16", $"http://169.254.10.10:{port}/"),
            ("link-local fe80::/10", $"http://[fe80::1]:{port}/"),
            ("CGNAT 100.64/10", $"http://100.64.0.1:{port}/"),
            ("metadata 169.254.169.254", "http://169.254.169.254/latest/meta-data/iam/security-credentials/"),
            ("metadata IPv4-mapped", "http://[::ffff:169.254.169.254]/latest/meta-data/"),
            ("metadata fd00:ec2::254", "http://[fd00:ec2::254]/latest/meta-data/"),
            ("IPv4-mapped ::ffff:127.0.0.2", $"http://[::ffff:127.0.0.2]:{port}/"),
            ("IPv4-compatible ::127.0.0.2", $"http://[::127.0.0.2]:{port}/"),
            ("NAT64 64:ff9b::127.0.0.2", $"http://[64:ff9b::7f00:2]:{port}/"),
            ("6to4 2002:7f00:2::", $"http://[2002:7f00:2::1]:{port}/"),
            ("decimal 2130706434", $"http://2130706434:{port}/"),
            ("hex 0x7f000002", $"http://0x7f000002:{port}/"),
            ("octal 0177.0.0.2", $"http://0177.0.0.2:{port}/"),
            ("short 127.2", $"http://127.2:{port}/"),
            ("decimal, port 80", "http://2130706434/"),
            ("hex, port 80", "http://0x7f000002/"),
            ("name localhost", $"http://localhost:{port}/"),
            ("name LOCALHOST", $"http://LOCALHOST:{port}/"),
        };
        // The machine's own name (in /etc/hosts, or the container's address): only where it resolves.
        var own = Dns.GetHostName();
        if (own != "localhost" && Resolves(own))
        {
            targets.Add(($"name {own}", $"http://{own}:{port}/"));
        }

        foreach (var (name, to) in new[]
        {
            ("127.0.0.2", $"http://127.0.0.2:{port}/"), ("::1", $"http://[::1]:{port}/"), ("localhost", $"http://localhost:{port}/"),
            ("metadata", "http://169.254.169.254/latest/meta-data/"),
        })
        {
            // In the path, not the query: a provider's base URL takes no query, and clients append to it.
            targets.Add(($"redirect to {name}", $"{redirector}r/{Convert.ToHexString(System.Text.Encoding.UTF8.GetBytes(to))}/"));
        }

        return targets;
    }

    private static bool Resolves(string host)
    {
        try
        {
            return Dns.GetHostAddresses(host).Length > 0;
        }
        catch (System.Net.Sockets.SocketException)
        {
            return false;
        }
    }

    private static JsonObject Agent(string id, object input, object? extra = null)
    {
        var step = new JsonObject
        {
            ["id"] = id,
            ["activity"] = new JsonObject { ["uniqueIdentifier"] = "agent" },
            ["input"] = JsonNode.Parse(Api.Serialize(input)),
            ["onFailure"] = "continue",
            ["retryPolicy"] = new JsonObject { ["maximumAttempts"] = 1 },
        };
        foreach (var (key, value) in extra is null ? [] : JsonNode.Parse(Api.Serialize(extra))!.AsObject())
        {
            step[key] = value?.DeepClone();
        }

        return step;
    }

    [Fact]
    public async Task EveryOutboundPath_RefusesEveryInternalTarget_AndTheCanaryHearsNothing()
    {
        await using var canary = Canary.Start(defaultPorts: true);
        await canary.SelfTestAsync();
        // The "public" server: allowed by the operator (Cadre:Outbound:AllowedHosts), it redirects wherever it is asked
        // (/r/{the target in hex}/…).
        await using var redirector = await FakeHttpServer.StartAsync(context =>
        {
            context.Response.StatusCode = 302;
            context.Response.Headers.Location = System.Text.Encoding.UTF8.GetString(Convert.FromHexString(context.Request.Path.Value!.Split('/')[2]));
            return Task.CompletedTask;
        });
        await using var fake = await FakeModelServer.StartAsync();
        await using var app = await CadreApp.StartAsync(DatabaseKind.Sqlite, new Dictionary<string, string?>
        {
            ["Cadre:Outbound:AllowedHosts:0"] = redirector.Address.Host,
            ["Cadre:Engine:PollInterval"] = "00:00:00.100",
            ["Cadre:Webhooks:PollInterval"] = "00:00:00.050",
            ["Cadre:Webhooks:FirstRetryDelay"] = "00:00:00.050",
            ["Cadre:Webhooks:MaxRetryDelay"] = "00:00:00.200",
            ["Cadre:Webhooks:Timeout"] = "00:00:02",
            // The model the agents talk to is the operator's (trusted): only the tools' destinations are the workspace's.
            ["Cadre:Providers:operator:Kind"] = "openai",
            ["Cadre:Providers:operator:BaseUrl"] = fake.OpenAIEndpoint.ToString(),
            ["Cadre:Providers:operator:ApiKey"] = "sk-operator-0123456789",
        });
        var workspace = await app.CreateWorkspaceAsync();
        var targets = Targets(canary.Port, redirector.Address);
        output.WriteLine($"canary on {string.Join(", ", canary.Endpoints)}");

        // Each path answers, per target, the error the workspace sees (null: not refused).
        List<string?> providers = [];
        var paths = new (string Name, Func<Task<string?[]>> Attempt)[]
        {
            ("http step", () => HttpStepAsync(workspace, targets)),
            ("http_request tool", () => ToolCallsAsync(workspace, fake, targets, "http_request", skills: ["http_request"])),
            ("http skill", () => HttpSkillAsync(workspace, fake, targets)),
            ("mcp skill url", () => McpSkillAsync(workspace, targets)),
            ("provider base url (test)", async () => await ProviderTestAsync(workspace, targets, providers = await CreateProvidersAsync(workspace, targets))),
            ("provider base url (llm step)", () => ProviderStepAsync(workspace, targets, providers)),
            ("http annotator", () => AnnotatorAsync(workspace, targets)),
            ("webhook subscription", () => SubscriptionsAsync(workspace, targets)),
            ("workflow notification", () => NotificationsAsync(workspace, targets)),
        };

        var attempts = 0;
        var refused = 0;
        var unclear = new List<string>();
        foreach (var (path, attempt) in paths)
        {
            var errors = await attempt();
            for (var i = 0; i < targets.Count; i++)
            {
                attempts++;
                var error = errors[i];
                var clear = error is not null && (error.Contains(Refusal, StringComparison.Ordinal)
                    // Webhooks follow no redirect at all; a URL refused when saved is refused too.
                    || error.Contains("do not follow redirects", StringComparison.Ordinal) || error.StartsWith("422", StringComparison.Ordinal));
                if (clear)
                {
                    refused++;
                }
                else
                {
                    unclear.Add($"{path} / {targets[i].Name} ({targets[i].Url}): {error ?? "not refused"}");
                }
            }

            output.WriteLine($"{path}: {errors.Count(e => e is not null)} of {targets.Count} failed; canary connections so far {canary.Connections}");
        }

        BatteryReport.Write(output, 10, "every outbound path x internal targets",
            ("paths", paths.Length), ("targets", targets.Count), ("attempts", attempts), ("refused", refused), ("canary connections", canary.Connections),
            ("redirects served", redirector.Requests.Count));
        unclear.ShouldBeEmpty(string.Join("\n", unclear));
        refused.ShouldBe(attempts);
        canary.Connections.ShouldBe(0);
        // The redirects were really offered: the allowed host was reached by every path, for each of its four targets.
        redirector.Requests.Count.ShouldBeGreaterThanOrEqualTo(4 * paths.Length);
    }

    /// <summary>One http step per target, in one run.</summary>
    private static async Task<string?[]> HttpStepAsync(TestWorkspace workspace, List<(string Name, string Url)> targets)
    {
        var flow = await workspace.CreateFlowAsync([.. targets.Select((t, i) => (object)new
        {
            id = $"t{i}", activity = new { uniqueIdentifier = "http" }, input = new { url = t.Url }, onFailure = "continue", retryPolicy = new { maximumAttempts = 1 },
        })]);
        var run = await workspace.StartAsync(flow, wait: null);
        run = await workspace.WaitForRunAsync((string)run["id"]!, seconds: 120);
        return [.. targets.Select((_, i) => StepError(run, $"t{i}"))];
    }

    private static string? StepError(JsonObject run, string step) =>
        RunApi.Step(run, step) is { } s && (string?)s["status"] == "failed" ? $"{s["error"]?["type"]}: {s["error"]?["message"]}" : null;

    /// <summary>The model calls <paramref name="tool"/> once per target (all in one turn); each answer goes back to it.</summary>
    private static async Task<string?[]> ToolCallsAsync(TestWorkspace workspace, FakeModelServer fake, List<(string Name, string Url)> targets, string tool, string[] skills)
    {
        var before = fake.Requests.Count;
        fake.Enqueue(new FakeReply
        {
            ToolCalls = [.. targets.Select((t, i) => new FakeToolCall($"call_{i}", tool, new JsonObject { ["url"] = t.Url }.ToJsonString()))],
        });
        fake.Enqueue(new FakeReply { Text = "Done." });
        var flow = await workspace.CreateFlowAsync([Agent("work", new { prompt = "Fetch them.", skills, model = new { provider = "operator", model = "gpt-4o" } })]);
        var run = await workspace.StartAsync(flow, wait: null);
        run = await workspace.WaitForRunAsync((string)run["id"]!, seconds: 120);
        ((string)run["status"]!).ShouldBe("succeeded", run.ToJsonString());
        var answers = fake.Requests.Skip(before).Last().Body["messages"]!.AsArray()
            .Where(m => (string)m!["role"]! == "tool")
            .ToDictionary(m => (string)m!["tool_call_id"]!, m => (string)m!["content"]!);
        return [.. targets.Select((_, i) => answers.TryGetValue($"call_{i}", out var answer) && answer.Contains("Error", StringComparison.Ordinal) ? answer : null)];
    }

    /// <summary>A workspace's http skill whose URL is the model's argument.</summary>
    private static async Task<string?[]> HttpSkillAsync(TestWorkspace workspace, FakeModelServer fake, List<(string Name, string Url)> targets)
    {
        await (await workspace.Owner.PostJsonAsync(Path(workspace, "skills"), new
        {
            name = "fetch", kind = "http", description = "Fetches a URL.",
            config = new { method = "GET", url = "{{ args.url }}", parameters = new { type = "object", required = new[] { "url" }, properties = new { url = new { type = "string" } } } },
        })).ShouldBeAsync(HttpStatusCode.Created);
        return await ToolCallsAsync(workspace, fake, targets, "fetch", skills: ["fetch"]);
    }

    /// <summary>One MCP skill per target, one agent step each: connecting is refused before the model is asked.</summary>
    private static async Task<string?[]> McpSkillAsync(TestWorkspace workspace, List<(string Name, string Url)> targets)
    {
        var errors = new string?[targets.Count];
        for (var i = 0; i < targets.Count; i++)
        {
            var created = await workspace.Owner.PostJsonAsync(Path(workspace, "skills"), new { name = $"mcp{i}", kind = "mcp", description = "Tools.", config = new { url = targets[i].Url + "mcp" } });
            var id = await CreatedIdAsync(created);
            errors[i] = id.StartsWith("422", StringComparison.Ordinal) ? id : null;
        }

        var flow = await workspace.CreateFlowAsync([.. targets.Select((_, i) => i).Where(i => errors[i] is null)
            .Select(i => (object)Agent($"t{i}", new { prompt = "Use your tools.", skills = new[] { $"mcp{i}" }, model = new { provider = "operator", model = "gpt-4o" } }))]);
        var run = await workspace.StartAsync(flow, wait: null);
        run = await workspace.WaitForRunAsync((string)run["id"]!, seconds: 120);
        return [.. errors.Select((e, i) => e ?? StepError(run, $"t{i}"))];
    }

    private static async Task<List<string?>> CreateProvidersAsync(TestWorkspace workspace, List<(string Name, string Url)> targets)
    {
        var saved = new List<string?>();
        for (var i = 0; i < targets.Count; i++)
        {
            var created = await workspace.Owner.PostJsonAsync(Path(workspace, "providers"), new
            {
                name = $"p{i}", kind = i % 2 == 0 ? "openai" : "anthropic", baseUrl = targets[i].Url, apiKey = "sk-internal-0123456789", maxRetries = 0,
            });
            var id = await CreatedIdAsync(created);
            saved.Add(id.StartsWith("422", StringComparison.Ordinal) ? id : null);
        }

        return saved;
    }

    /// <summary>A workspace provider per target (OpenAI and Anthropic kinds in turn), tried with …/providers/{name}/test.</summary>
    private static async Task<string?[]> ProviderTestAsync(TestWorkspace workspace, List<(string Name, string Url)> targets, List<string?> saved)
    {
        var errors = saved.ToArray();
        for (var i = 0; i < targets.Count; i++)
        {
            if (errors[i] is not null)
            {
                continue;
            }

            var response = await workspace.Owner.PostJsonAsync(Path(workspace, $"providers/p{i}/test"), new { model = "gpt-4o" });
            await response.ShouldBeAsync(HttpStatusCode.OK);
            var result = await response.ReadObjectAsync();
            errors[i] = (bool)result["ok"]! ? null : (string?)result["error"];
        }

        return [.. errors];
    }

    /// <summary>An llm step per provider of <see cref="ProviderTestAsync"/>, in one run.</summary>
    private static async Task<string?[]> ProviderStepAsync(TestWorkspace workspace, List<(string Name, string Url)> targets, List<string?> saved)
    {
        var flow = await workspace.CreateFlowAsync([.. targets.Select((_, i) => i).Where(i => saved[i] is null).Select(i => (object)new
        {
            id = $"t{i}", activity = new { uniqueIdentifier = "llm" }, input = new { prompt = "Hello.", model = new { provider = $"p{i}", model = "gpt-4o" } },
            onFailure = "continue", retryPolicy = new { maximumAttempts = 1 },
        })]);
        var run = await workspace.StartAsync(flow, wait: null);
        run = await workspace.WaitForRunAsync((string)run["id"]!, seconds: 120);
        return [.. saved.Select((s, i) => s ?? StepError(run, $"t{i}"))];
    }

    /// <summary>An http annotator whose URL comes from the context, tried with …/annotate once per target.</summary>
    private static async Task<string?[]> AnnotatorAsync(TestWorkspace workspace, List<(string Name, string Url)> targets)
    {
        var name = Api.UniqueName("annotated");
        var body = WorkflowApi.Body(name, new { annotations = new object[] { new { id = "peek", annotator = "http", input = new { url = "{{ context.body.url }}" } } } });
        await (await workspace.Owner.PostAsync(workspace.Workflows(), Api.JsonContent(body))).ShouldBeAsync(HttpStatusCode.Created);
        var errors = new string?[targets.Count];
        for (var i = 0; i < targets.Count; i++)
        {
            var response = await workspace.Owner.PostJsonAsync(workspace.Workflows($"/{name}/annotate"), new { context = new { body = new { url = targets[i].Url } } });
            errors[i] = response.StatusCode == HttpStatusCode.UnprocessableEntity
                ? string.Join("; ", (await response.ShouldBeProblemAsync(HttpStatusCode.UnprocessableEntity)).Errors!.SelectMany(e => e.Value))
                : null;
        }

        return errors;
    }

    /// <summary>A subscription per target; one event makes a delivery to each.</summary>
    private static async Task<string?[]> SubscriptionsAsync(TestWorkspace workspace, List<(string Name, string Url)> targets)
    {
        await (await workspace.Owner.PostJsonAsync(Path(workspace, "event-types"), new { name = "ssrf.probe" })).ShouldBeAsync(HttpStatusCode.Created);
        var owners = new string?[targets.Count];
        for (var i = 0; i < targets.Count; i++)
        {
            var created = await workspace.Owner.PostJsonAsync(Path(workspace, "webhook-subscriptions"), new { url = targets[i].Url, eventTypes = new[] { "ssrf.probe" } });
            owners[i] = await CreatedIdAsync(created);
        }

        await (await workspace.Owner.PostJsonAsync(Path(workspace, "events"), new { type = "ssrf.probe" })).ShouldBeAsync(HttpStatusCode.Created);
        return await DeliveryErrorsAsync(workspace, owners, "subscriptionId");
    }

    /// <summary>A workflow per target whose notifications go there; one run of each.</summary>
    private static async Task<string?[]> NotificationsAsync(TestWorkspace workspace, List<(string Name, string Url)> targets)
    {
        var owners = new string?[targets.Count];
        for (var i = 0; i < targets.Count; i++)
        {
            var body = WorkflowApi.Body(Api.UniqueName("notified"));
            body["steps"] = JsonNode.Parse(Api.Serialize(new[] { new { id = "noop", activity = new { uniqueIdentifier = "transform" }, input = new { done = true } } }));
            body["notifications"] = new JsonObject { ["webhookUrl"] = targets[i].Url };
            owners[i] = await CreatedIdAsync(await workspace.Owner.PostAsync(workspace.Workflows(), Api.JsonContent(body)));
            if (owners[i] is { } id && !id.StartsWith("422", StringComparison.Ordinal))
            {
                ((string)(await workspace.StartAsync(id))["status"]!).ShouldBe("succeeded");
            }
        }

        return await DeliveryErrorsAsync(workspace, owners, "workflowId");
    }

    /// <summary>The created resource's ID, or "422 …" when the API refused the URL when saved.</summary>
    private static async Task<string> CreatedIdAsync(HttpResponseMessage created)
    {
        if (created.StatusCode == HttpStatusCode.UnprocessableEntity)
        {
            return "422 when saved: " + string.Join("; ", (await created.ShouldBeProblemAsync(HttpStatusCode.UnprocessableEntity)).Errors!.SelectMany(e => e.Value));
        }

        await created.ShouldBeAsync(HttpStatusCode.Created);
        return (string)(await created.ReadObjectAsync())["id"]!;
    }

    /// <summary>Waits until the delivery of each owner (subscription or workflow) was attempted, and answers its last error.</summary>
    private static async Task<string?[]> DeliveryErrorsAsync(TestWorkspace workspace, string?[] owners, string ownerField)
    {
        List<JsonObject> deliveries = [];
        JsonObject? Find(string id) => deliveries.FirstOrDefault(d => (string?)d[ownerField] == id);
        await Eventually.HoldsAsync(async () =>
        {
            deliveries = await workspace.ListAllAsync(Path(workspace, "deliveries"));
            return owners.All(id => id!.StartsWith("422", StringComparison.Ordinal) || (Find(id) is { } d && (int)d["attempts"]! >= 1 && d["lastError"] is not null));
        }, $"every delivery attempted ({ownerField})", seconds: 60);
        return [.. owners.Select(id => id!.StartsWith("422", StringComparison.Ordinal) ? id : (string?)Find(id)!["lastError"])];
    }
}
