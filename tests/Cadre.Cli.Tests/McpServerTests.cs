using System.Collections.Concurrent;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Cadre.Cli.Tests.Infrastructure;
using ModelContextProtocol;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;

namespace Cadre.Cli.Tests;

/// <summary>
/// <c>cadre mcp</c> started as a process by the MCP package's own stdio client, as Claude Desktop or Cursor would:
/// tools listed and called, resources listed and read, and the API's refusals as tool errors.
/// </summary>
public sealed class McpServerTests(CadreInstance cadre) : IClassFixture<CadreInstance>
{
    private static readonly string[] ToolNames =
    [
        "list_personas", "get_persona", "list_workflows", "get_workflow", "start_run", "get_run", "get_run_events",
        "list_approvals", "decide_approval", "send_event",
    ];

    [Fact]
    public async Task ToolsList_NamesEveryTool_WithSchemasAndHints()
    {
        var workspace = await cadre.CreateWorkspaceAsync("mcp-tools");
        await using var mcp = await McpSession.StartAsync(cadre, workspace);

        var tools = await mcp.Client.ListToolsAsync();

        tools.Select(t => t.Name).Order().ShouldBe(ToolNames.Order());
        var startRun = tools.Single(t => t.Name == "start_run").ProtocolTool;
        startRun.Annotations!.ReadOnlyHint.ShouldBe(false);
        startRun.Annotations.DestructiveHint.ShouldBe(false);
        var schema = JsonNode.Parse(startRun.InputSchema.GetRawText())!;
        schema["required"]!.AsArray().Select(r => (string)r!).ShouldBe(["workflow"]);
        ((int)schema["properties"]!["wait_seconds"]!["maximum"]!).ShouldBe(300);
        tools.Single(t => t.Name == "list_personas").ProtocolTool.Annotations!.ReadOnlyHint.ShouldBe(true);
        tools.Single(t => t.Name == "decide_approval").ProtocolTool.Annotations!.DestructiveHint.ShouldBe(true);
    }

    [Fact]
    public async Task ListPersonas_AndGetWorkflow_AnswerTheApisDocuments()
    {
        var workspace = await cadre.CreateWorkspaceAsync("mcp-read");
        await CreatePersonaAsync(workspace, "billing", "Penny from Billing");
        await CreatePersonaAsync(workspace, "support", "Sam from Support");
        await CreateWorkflowAsync(workspace, "greet", [ReplyStep("Hello from Cadre")]);
        await using var mcp = await McpSession.StartAsync(cadre, workspace);

        var all = await mcp.CallAsync("list_personas", new() { ["limit"] = 10 });
        var searched = await mcp.CallAsync("list_personas", new() { ["query"] = "penny" });
        var workflow = await mcp.CallAsync("get_workflow", new() { ["name"] = "greet" });

        ((int)all["count"]!).ShouldBe(2);
        all["results"]!.AsArray().Select(p => (string)p!["name"]!).Order().ShouldBe(["billing", "support"]);
        searched["results"]!.AsArray().ShouldHaveSingleItem()!["displayName"]!.GetValue<string>().ShouldBe("Penny from Billing");
        ((string)workflow["name"]!).ShouldBe("greet");
        ((string)workflow["steps"]![0]!["id"]!).ShouldBe("ask");
    }

    [Fact]
    public async Task StartRun_WithWait_AnswersTheSucceededRunsOutput_AndItsEvents()
    {
        var workspace = await cadre.CreateWorkspaceAsync("mcp-run");
        await CreateWorkflowAsync(workspace, "greet", [ReplyStep("Hello from Cadre")]);
        await using var mcp = await McpSession.StartAsync(cadre, workspace);

        var run = await mcp.CallAsync("start_run", new() { ["workflow"] = "greet", ["input"] = new { who = "Ada" }, ["wait_seconds"] = 60 });

        ((string)run["status"]!).ShouldBe("succeeded", run.ToJsonString());
        ((string)run["output"]!["text"]!).ShouldBe("Hello from Cadre");
        ((long)run["usage"]!["outputTokens"]!).ShouldBe(3);
        ((string)run["steps"]![0]!["status"]!).ShouldBe("succeeded");
        var again = await mcp.CallAsync("get_run", new() { ["run"] = (string)run["id"]! });
        ((string)again["output"]!["text"]!).ShouldBe("Hello from Cadre");
        var events = await mcp.CallAsync("get_run_events", new() { ["run"] = (string)run["id"]! });
        events["events"]!.AsArray().ShouldNotBeEmpty();
        ((bool)events["more"]!).ShouldBeFalse();
        var later = await mcp.CallAsync("get_run_events", new() { ["run"] = (string)run["id"]!, ["after"] = (long)events["after"]! });
        later["events"]!.AsArray().ShouldBeEmpty();
    }

    [Fact]
    public async Task DecideApproval_OnARunWaitingForIt_LetsTheRunFinish()
    {
        var workspace = await cadre.CreateWorkspaceAsync("mcp-approve");
        var (approver, key) = await CreateServiceAccountAsync(workspace, "operator");
        await CreateWorkflowAsync(workspace, "ship",
        [
            new { id = "signoff", activity = new { uniqueIdentifier = "approval" }, input = new { message = "Ship order {{ context.body.order }}?" }, approval = new { approvers = new[] { approver } } },
            new { id = "ship", activity = new { uniqueIdentifier = "transform" }, dependsOn = new[] { "signoff" }, input = new { decided = "{{ steps.signoff.output.decision }}" } },
        ]);
        await using var mcp = await McpSession.StartAsync(cadre, workspace, key);
        var started = await mcp.CallAsync("start_run", new() { ["workflow"] = "ship", ["input"] = new { order = 42 }, ["wait_seconds"] = 0 });
        var runId = (string)started["id"]!;
        await Eventually.HoldsAsync(async () => (string)(await mcp.CallAsync("get_run", new() { ["run"] = runId }))["status"]! == "waiting", "the run waits for its approval");

        var inbox = await mcp.CallAsync("list_approvals", new());
        var approval = inbox["results"]!.AsArray().ShouldHaveSingleItem()!;
        ((string)approval["summary"]!["message"]!).ShouldBe("Ship order 42?");
        var decided = await mcp.CallAsync("decide_approval", new() { ["approval"] = (string)approval["id"]!, ["decision"] = "approve", ["comment"] = "Looks right." });

        ((string)decided["status"]!).ShouldBe("approved");
        var done = await Eventually.HoldsAsync(() => mcp.CallAsync("get_run", new() { ["run"] = runId }), r => (string)r["status"]! is not ("waiting" or "running" or "queued"), "the run ends");
        ((string)done["status"]!).ShouldBe("succeeded", done.ToJsonString());
        done["output"]!.ToJsonString().ShouldBe("""{"decided":"approved"}""");
        (await mcp.CallAsync("list_approvals", new()))["results"]!.AsArray().ShouldBeEmpty();
    }

    [Fact]
    public async Task SendEvent_StartsTheWorkflowListeningForItsType()
    {
        var workspace = await cadre.CreateWorkspaceAsync("mcp-event");
        using var admin = cadre.Admin();
        (await admin.PostAsJsonAsync($"/api/v1/workspaces/{workspace}/event-types",
            new { name = "ticket.created", schema = new { type = "object", required = new[] { "title" }, properties = new { title = new { type = "string" } } } })).EnsureSuccessStatusCode();
        await CreateWorkflowAsync(workspace, "triage",
            [new { id = "echo", activity = new { uniqueIdentifier = "transform" }, input = new { title = "{{ context.event.payload.title }}" } }],
            new { type = "event", trigger = new { eventType = "ticket.created" } });
        (await admin.PostAsync($"/api/v1/workspaces/{workspace}/workflows/triage/activate", null)).EnsureSuccessStatusCode();
        await using var mcp = await McpSession.StartAsync(cadre, workspace);

        var sent = await mcp.CallAsync("send_event", new() { ["type"] = "ticket.created", ["payload"] = new { title = "Printer on fire" }, ["source"] = "helpdesk" });

        var started = sent["runs"]!.AsArray().ShouldHaveSingleItem()!;
        ((string)started["workflow"]!).ShouldBe("triage");
        var done = await Eventually.HoldsAsync(() => mcp.CallAsync("get_run", new() { ["run"] = (string)started["runId"]! }), r => (string)r["status"]! == "succeeded", "the event's run succeeds");
        ((string)done["output"]!["title"]!).ShouldBe("Printer on fire");
        var invalid = await mcp.CallForErrorAsync("send_event", new() { ["type"] = "ticket.created", ["payload"] = new { } });
        invalid.ShouldContain("(HTTP 422)");
        invalid.ShouldContain("payload: ");
    }

    [Fact]
    public async Task Resources_ListPersonaCardsAndWorkflowDefinitions_AndReadThem()
    {
        var workspace = await cadre.CreateWorkspaceAsync("mcp-res");
        await CreatePersonaAsync(workspace, "billing", "Penny from Billing");
        await CreateWorkflowAsync(workspace, "greet", [ReplyStep("Hello")]);
        await using var mcp = await McpSession.StartAsync(cadre, workspace);

        var resources = await mcp.Client.ListResourcesAsync();
        var templates = await mcp.Client.ListResourceTemplatesAsync();
        var card = await mcp.Client.ReadResourceAsync("cadre://personas/billing/card");
        var definition = await mcp.Client.ReadResourceAsync("cadre://workflows/greet");

        resources.Select(r => r.Uri).Order().ShouldBe(["cadre://personas/billing/card", "cadre://workflows/greet"]);
        resources.Single(r => r.Uri == "cadre://personas/billing/card").MimeType.ShouldBe("text/markdown");
        templates.Select(t => t.UriTemplate).Order().ShouldBe(["cadre://personas/{name}/card", "cadre://workflows/{name}"]);
        var markdown = card.Contents.ShouldHaveSingleItem().ShouldBeOfType<TextResourceContents>();
        markdown.MimeType.ShouldBe("text/markdown");
        markdown.Text.ShouldContain("Penny from Billing");
        var json = definition.Contents.ShouldHaveSingleItem().ShouldBeOfType<TextResourceContents>();
        json.MimeType.ShouldBe("application/json");
        ((string)JsonNode.Parse(json.Text)!["name"]!).ShouldBe("greet");
        var missing = await Should.ThrowAsync<McpException>(() => mcp.Client.ReadResourceAsync("cadre://workflows/no-such-flow").AsTask());
        missing.Message.ShouldContain("404");
    }

    [Fact]
    public async Task Resources_PageThroughMoreThanOneApiPage()
    {
        var workspace = await cadre.CreateWorkspaceAsync("mcp-pages");
        using var admin = cadre.Admin();
        var personas = Enumerable.Range(0, 105).Select(i => new { name = $"p{i:000}", displayName = $"P {i}", instructions = "Help.", model = new { provider = "mock", model = "echo" } });
        (await admin.PostAsJsonAsync($"/api/v1/workspaces/{workspace}/personas/bulk-create", new { items = personas })).EnsureSuccessStatusCode();
        await CreateWorkflowAsync(workspace, "greet", [ReplyStep("Hello")]);
        await using var mcp = await McpSession.StartAsync(cadre, workspace);

        var first = await mcp.Client.ListResourcesAsync(new ListResourcesRequestParams());
        var all = await mcp.Client.ListResourcesAsync();

        first.NextCursor.ShouldNotBeNull();
        first.Resources.Count.ShouldBe(100);
        all.Count.ShouldBe(106);
        all.Select(r => r.Uri).Distinct().Count().ShouldBe(106);
        all.ShouldContain(r => r.Uri == "cadre://workflows/greet");
    }

    [Fact]
    public async Task AViewersKey_StartRun_IsAToolErrorWithThe403_AndNothingStarts()
    {
        var workspace = await cadre.CreateWorkspaceAsync("mcp-viewer");
        await CreateWorkflowAsync(workspace, "greet", [ReplyStep("Hello")]);
        var viewerKey = await cadre.CreateKeyAsync(workspace, "viewer");
        await using var mcp = await McpSession.StartAsync(cadre, workspace, viewerKey);

        (await mcp.CallAsync("list_workflows", new()))["count"]!.GetValue<int>().ShouldBe(1);
        var refused = await mcp.CallForErrorAsync("start_run", new() { ["workflow"] = "greet", ["wait_seconds"] = 0 });

        refused.ShouldContain("(HTTP 403)");
        using var admin = cadre.Admin();
        var runs = await admin.GetFromJsonAsync<JsonObject>($"/api/v1/workspaces/{workspace}/runs");
        runs!["count"]!.GetValue<int>().ShouldBe(0);
        // The server carries on after a refusal.
        (await mcp.CallAsync("list_personas", new()))["count"]!.GetValue<int>().ShouldBe(0);
    }

    [Fact]
    public async Task BadArguments_AreToolErrorsThatSayWhy()
    {
        var workspace = await cadre.CreateWorkspaceAsync("mcp-bad");
        await using var mcp = await McpSession.StartAsync(cadre, workspace);

        var unknownWorkflow = await mcp.CallForErrorAsync("start_run", new() { ["workflow"] = "no-such-flow" });
        var missing = await mcp.CallForErrorAsync("get_persona", new());
        var outOfRange = await mcp.CallForErrorAsync("start_run", new() { ["workflow"] = "x", ["wait_seconds"] = 301 });
        var unknownArgument = await mcp.CallForErrorAsync("get_run", new() { ["run_id"] = "run_1" });
        var badDecision = await mcp.CallForErrorAsync("decide_approval", new() { ["approval"] = "apr_1", ["decision"] = "maybe" });

        unknownWorkflow.ShouldContain("(HTTP 404)");
        missing.ShouldBe("'name' is required.");
        outOfRange.ShouldContain("'wait_seconds' must be from 0 to 300");
        unknownArgument.ShouldContain("no argument 'run_id'");
        badDecision.ShouldContain("approve, reject");
    }

    [Fact]
    public async Task Start_WithoutAWorkspaceOrAKey_FailsAtOnceOnStandardError()
    {
        var workspace = await cadre.CreateWorkspaceAsync("mcp-start");

        var noWorkspace = await cadre.RunAsync(null, "mcp");
        var noKey = await cadre.RunAsync(workspace, ["mcp"], environment: new Dictionary<string, string?> { ["CADRE_KEY"] = null });
        var unknownWorkspace = await cadre.RunAsync("no-such-workspace", "mcp");

        noWorkspace.ShouldFailWith(2);
        noWorkspace.Error.ShouldContain("--workspace");
        noKey.ShouldFailWith(3);
        noKey.Error.ShouldContain("CADRE_KEY");
        unknownWorkspace.ShouldFailWith(4);
        unknownWorkspace.Error.ShouldContain("Cannot serve workspace 'no-such-workspace'");
        foreach (var result in new[] { noWorkspace, noKey, unknownWorkspace })
        {
            result.Output.ShouldBeEmpty();
        }
    }

    private static object ReplyStep(string reply) => new
    {
        id = "ask",
        activity = new { uniqueIdentifier = "llm" },
        input = new { model = new { provider = "mock", model = $"reply:{reply}" }, prompt = "Say hello" },
    };

    private async Task CreatePersonaAsync(string workspace, string name, string displayName)
    {
        using var admin = cadre.Admin();
        (await admin.PostAsJsonAsync($"/api/v1/workspaces/{workspace}/personas", new
        {
            name, displayName, description = $"{displayName} helps.", instructions = "You help.", model = new { provider = "mock", model = "echo" },
        })).EnsureSuccessStatusCode();
    }

    private async Task CreateWorkflowAsync(string workspace, string name, object[] steps, object? extra = null)
    {
        var body = new JsonObject { ["name"] = name, ["description"] = $"The {name} workflow.", ["steps"] = ToNode(steps) };
        foreach (var (key, value) in extra is null ? [] : ToNode(extra)!.AsObject())
        {
            body[key] = value?.DeepClone();
        }

        using var admin = cadre.Admin();
        var response = await admin.PostAsJsonAsync($"/api/v1/workspaces/{workspace}/workflows", body);
        response.IsSuccessStatusCode.ShouldBeTrue(await response.Content.ReadAsStringAsync());
    }

    private static JsonNode? ToNode(object value) => System.Text.Json.JsonSerializer.SerializeToNode(value, System.Text.Json.JsonSerializerOptions.Web);

    /// <summary>A service account with <paramref name="role"/>: its ID (to name it an approver) and a key.</summary>
    private async Task<(string Id, string Key)> CreateServiceAccountAsync(string workspace, string role)
    {
        using var admin = cadre.Admin();
        var account = await (await admin.PostAsJsonAsync($"/api/v1/workspaces/{workspace}/service-accounts",
            new { name = $"{role}-{Guid.NewGuid():N}"[..(role.Length + 9)], role })).EnsureSuccessStatusCode().Content.ReadFromJsonAsync<JsonObject>();
        var key = await (await admin.PostAsJsonAsync($"/api/v1/workspaces/{workspace}/service-accounts/{account!["id"]}/api-keys",
            new { name = "mcp tests" })).EnsureSuccessStatusCode().Content.ReadFromJsonAsync<JsonObject>();
        return ((string)account["id"]!, (string)key!["key"]!);
    }

    /// <summary>
    /// <c>dotnet cadre.dll mcp</c> behind the package's stdio client, configured only through the environment (a
    /// fresh config file, so no saved context of the machine's leaks in); what it writes to standard error is kept
    /// for the failure messages.
    /// </summary>
    private sealed class McpSession : IAsyncDisposable
    {
        private readonly ConcurrentQueue<string> _errors;

        private McpSession(McpClient client, ConcurrentQueue<string> errors)
        {
            Client = client;
            _errors = errors;
        }

        public McpClient Client { get; }

        public static async Task<McpSession> StartAsync(CadreInstance cadre, string workspace, string? key = null)
        {
            var directory = TestDirectories.Create("mcp");
            var environment = Environment.GetEnvironmentVariables().Keys.Cast<string>()
                .Where(name => name.StartsWith("CADRE_", StringComparison.Ordinal))
                .ToDictionary(name => name, _ => (string?)null);
            environment["CADRE_CONFIG"] = Path.Combine(directory, "config.yaml");
            environment["CADRE_SERVER"] = cadre.Url;
            environment["CADRE_KEY"] = key ?? CadreInstance.AdminKey;
            environment["CADRE_WORKSPACE"] = workspace;
            var errors = new ConcurrentQueue<string>();
            var transport = new StdioClientTransport(new StdioClientTransportOptions
            {
                Name = "cadre",
                Command = "dotnet",
                Arguments = [Path.Combine(AppContext.BaseDirectory, "cadre.dll"), "mcp"],
                WorkingDirectory = directory,
                EnvironmentVariables = environment,
                StandardErrorLines = errors.Enqueue,
            });
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            try
            {
                return new McpSession(await McpClient.CreateAsync(transport, cancellationToken: timeout.Token), errors);
            }
            catch (Exception ex)
            {
                throw new InvalidOperationException($"cadre mcp did not start.\nstderr:\n{string.Join('\n', errors)}", ex);
            }
        }

        /// <summary>Calls a tool that must succeed, and answers its JSON.</summary>
        public async Task<JsonNode> CallAsync(string tool, Dictionary<string, object?> arguments)
        {
            var result = await Client.CallToolAsync(tool, arguments);
            var text = result.Content.OfType<TextContentBlock>().ShouldHaveSingleItem().Text;
            (result.IsError ?? false).ShouldBeFalse($"{tool} failed: {text}\nstderr:\n{string.Join('\n', _errors)}");
            return JsonNode.Parse(text)!;
        }

        /// <summary>Calls a tool that must fail as a tool (isError), and answers its text.</summary>
        public async Task<string> CallForErrorAsync(string tool, Dictionary<string, object?> arguments)
        {
            var result = await Client.CallToolAsync(tool, arguments);
            var text = result.Content.OfType<TextContentBlock>().ShouldHaveSingleItem().Text;
            (result.IsError ?? false).ShouldBeTrue($"{tool} did not fail: {text}");
            return text;
        }

        public async ValueTask DisposeAsync() => await Client.DisposeAsync();
    }
}
