using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Cadre.Server.Tests.Infrastructure;
using Cadre.Server.Tests.Runs;
using Cadre.Server.Tests.Workflows;
using Cadre.Storage;
using Microsoft.AspNetCore.Http;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Cadre.Server.Tests.Secrets;

/// <summary>
/// Runs read secrets as <c>{{ secrets.NAME }}</c>: the value goes where the step sends it, and nowhere
/// Cadre keeps or shows anything (run, steps, events, attempts, logs, the database file).
/// </summary>
public sealed class SecretRunTests
{
    private static string Secrets(TestWorkspace workspace, string rest = "") => $"/api/v1/workspaces/{workspace.Name}/secrets{rest}";

    private static string Canary() => "canary-" + Guid.NewGuid().ToString("N");

    private static JsonObject Step(string id, string activity, object input, object? extra = null)
    {
        var step = JsonNode.Parse(Api.Serialize(new { id, activity = new { uniqueIdentifier = activity }, input }))!.AsObject();
        foreach (var (key, value) in extra is null ? [] : JsonNode.Parse(Api.Serialize(extra))!.AsObject())
        {
            step[key] = value?.DeepClone();
        }

        return step;
    }

    /// <summary>Answers every request with what it received: path and query, headers, body.</summary>
    private static Task<FakeHttpServer> EchoServerAsync() => FakeHttpServer.StartAsync(async context =>
    {
        context.Response.StatusCode = context.Request.Path.StartsWithSegments("/deny") ? 403 : 200;
        await context.Response.WriteAsJsonAsync(new
        {
            url = context.Request.Path + context.Request.QueryString,
            headers = context.Request.Headers.ToDictionary(h => h.Key.ToLowerInvariant(), h => h.Value.ToString()),
        });
    });

    /// <summary>Everything Cadre shows of a run: the run, its attempts and its whole history.</summary>
    private static async Task<string> EverythingShownAsync(TestWorkspace workspace, string runId)
    {
        var shown = new StringBuilder();
        shown.Append((await workspace.GetRunAsync(runId)).ToJsonString());
        foreach (var path in new[] { $"/{runId}/tasks", $"/{runId}/events" })
        {
            foreach (var item in await workspace.ListAllAsync(workspace.Runs(path)))
            {
                shown.Append(item.ToJsonString());
            }
        }

        shown.Append(await (await workspace.Owner.GetAsync(workspace.Runs())).Content.ReadAsStringAsync());
        return shown.ToString();
    }

    /// <summary>Every text column of the run's rows as stored, whatever the engine.</summary>
    private static async Task<string> EverythingStoredAsync(CadreApp app, string runId)
    {
        using var scope = app.Services.CreateScope();
        var db = scope.ServiceProvider.GetRequiredService<CadreDbContext>();
        var stored = new StringBuilder();
        foreach (var run in await db.Runs.AsNoTracking().Where(r => r.Id == runId).ToListAsync())
        {
            stored.Append(run.Input).Append(run.Context).Append(run.Output).Append(run.Error);
        }

        foreach (var step in await db.RunSteps.AsNoTracking().Where(s => s.RunId == runId).ToListAsync())
        {
            stored.Append(step.Output).Append(step.Error);
        }

        stored.AppendJoin("", await db.Tasks.AsNoTracking().Where(t => t.RunId == runId).Select(t => t.Error).ToListAsync());
        stored.AppendJoin("", await db.RunEvents.AsNoTracking().Where(e => e.RunId == runId).Select(e => e.Data).ToListAsync());
        stored.AppendJoin("", await db.StepCheckpoints.AsNoTracking().Where(c => c.RunId == runId).Select(c => c.State).ToListAsync());
        stored.AppendJoin("", await db.Approvals.AsNoTracking().Where(a => a.RunId == runId).Select(a => a.Summary).ToListAsync());
        stored.AppendJoin("", await db.WorkspaceEvents.AsNoTracking().Where(e => e.EmittedByRun == runId).Select(e => e.Payload).ToListAsync());
        return stored.ToString();
    }

    /// <summary>The SQLite database as bytes on disk, the write-ahead log included.</summary>
    private static async Task<byte[]> DatabaseFilesAsync(CadreApp app)
    {
        var bytes = new List<byte>();
        foreach (var file in Directory.EnumerateFiles(app.DataDir, DatabaseTarget.SqliteFileName + "*"))
        {
            await using var stream = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            using var copy = new MemoryStream();
            await stream.CopyToAsync(copy);
            bytes.AddRange(copy.ToArray());
        }

        return [.. bytes];
    }

    [Theory, AllDatabases]
    public async Task HttpStep_SecretInHeaderAndUrl_SendsTheValue_AndNoRecordLogOrResponseHoldsIt(DatabaseKind db)
    {
        // An app of its own, so its log and its database file hold only this test's work.
        await using var app = await CadreApp.StartAsync(db, EngineApps.Settings);
        await using var echo = await EchoServerAsync();
        var workspace = await app.CreateWorkspaceAsync();
        var value = Canary();
        await (await workspace.Owner.PostJsonAsync(Secrets(workspace), new { name = "token", value })).ShouldBeAsync(HttpStatusCode.Created);
        var flow = await workspace.CreateFlowAsync(
        [
            Step("call", "http", new
            {
                url = echo.Address + "orders?key={{ secrets.token }}",
                headers = new Dictionary<string, string> { ["Authorization"] = "Bearer {{ secrets['token'] }}" },
            }),
            Step("deny", "http", new { url = echo.Address + "deny/{{ secrets.token }}" }, new { dependsOn = new[] { "call" }, onFailure = "continue" }),
            Step("shape", "transform", new { seen = "{{ steps.call.output.body.headers.authorization }}", direct = "{{ secrets.token }}", length = "{{ secrets.token.length }}" },
                new { dependsOn = new[] { "deny" } }),
            Step("tell", "emit_event", new { type = "token.seen", payload = new { token = "{{ secrets.token }}" } }, new { dependsOn = new[] { "shape" } }),
        ]);
        await (await workspace.Owner.PostJsonAsync($"/api/v1/workspaces/{workspace.Name}/event-types", new { name = "token.seen", schema = new { type = "object" } }))
            .ShouldBeAsync(HttpStatusCode.Created);

        var run = await workspace.StartAsync(flow);

        ((string)run["status"]!).ShouldBe("succeeded", run.ToJsonString());
        echo.Requests[0].Headers["Authorization"].ShouldBe($"Bearer {value}");
        echo.Requests[0].PathAndQuery.ShouldBe($"/orders?key={value}");
        echo.Requests[1].PathAndQuery.ShouldBe($"/deny/{value}");
        var runId = (string)run["id"]!;
        var shown = await EverythingShownAsync(workspace, runId);
        shown.ShouldNotContain(value);
        var shape = RunApi.Step(await workspace.GetRunAsync(runId), "shape")["output"]!;
        ((string)shape["seen"]!).ShouldBe("Bearer [secret:token]");
        ((string)shape["direct"]!).ShouldBe("[secret:token]");
        ((int)shape["length"]!).ShouldBe(value.Length);
        var denied = RunApi.Step(await workspace.GetRunAsync(runId), "deny");
        ((string)denied["error"]!["type"]!).ShouldBe("http_403");
        ((string)denied["error"]!["message"]!).ShouldContain("/deny/[secret:token]");
        (await EverythingStoredAsync(app, runId)).ShouldNotContain(value);
        app.Logs.Messages.ShouldNotContain(m => m.Contains(value, StringComparison.Ordinal));
        if (db == DatabaseKind.Sqlite)
        {
            var canary = Encoding.UTF8.GetBytes(value);
            (await DatabaseFilesAsync(app)).AsSpan().IndexOf(canary).ShouldBe(-1, "the canary is somewhere in the SQLite files");
        }
    }

    [Theory, AllDatabases]
    public async Task Step_SecretChanged_NextRunSendsTheNewValue(DatabaseKind db)
    {
        var app = await EngineApps.Get(db);
        await using var echo = await EchoServerAsync();
        var workspace = await app.CreateWorkspaceAsync();
        var (first, second) = (Canary(), Canary());
        await (await workspace.Owner.PostJsonAsync(Secrets(workspace), new { name = "token", value = first })).ShouldBeAsync(HttpStatusCode.Created);
        var flow = await workspace.CreateFlowAsync([Step("call", "http", new { url = echo.Address + "x", headers = new Dictionary<string, string> { ["X-Token"] = "{{ secrets.token }}" } })]);
        ((string)(await workspace.StartAsync(flow))["status"]!).ShouldBe("succeeded");

        await (await workspace.Owner.PatchJsonAsync(Secrets(workspace, "/token"), new { value = second })).ShouldBeAsync(HttpStatusCode.OK);
        var run = await workspace.StartAsync(flow);

        ((string)run["status"]!).ShouldBe("succeeded");
        echo.Requests.Select(r => r.Headers["X-Token"]).ShouldBe([first, second]);
        run.ToJsonString().ShouldNotContain(second);
    }

    [Theory, AllDatabases]
    public async Task Step_NamesAMissingSecret_FailsAtOnceSayingWhich(DatabaseKind db)
    {
        var app = await EngineApps.Get(db);
        await using var echo = await EchoServerAsync();
        var workspace = await app.CreateWorkspaceAsync();
        var flow = await workspace.CreateFlowAsync(
        [
            Step("first", "transform", new { ok = true }),
            Step("call", "http", new { url = echo.Address + "x", headers = new Dictionary<string, string> { ["X-Token"] = "{{ secrets.crm_token }}" } },
                new { dependsOn = new[] { "first" }, retryPolicy = new { maximumAttempts = 5 } }),
        ]);

        var run = await workspace.StartAsync(flow);

        ((string)run["status"]!).ShouldBe("failed");
        var step = RunApi.Step(run, "call");
        ((string)step["error"]!["type"]!).ShouldBe("secret_not_found");
        ((bool)step["error"]!["retryable"]!).ShouldBeFalse();
        ((string)step["error"]!["message"]!).ShouldContain("'crm_token'");
        ((int)step["attempts"]!).ShouldBe(1);
        ((string)run["error"]!["stepId"]!).ShouldBe("call");
        echo.Requests.ShouldBeEmpty();
    }

    [Theory, AllDatabases]
    public async Task Step_SecretDoesNotDecrypt_FailsClearly_AndTheRunStillReads(DatabaseKind db)
    {
        var app = await EngineApps.Get(db);
        await using var echo = await EchoServerAsync();
        var workspace = await app.CreateWorkspaceAsync();
        await (await workspace.Owner.PostJsonAsync(Secrets(workspace), new { name = "token", value = Canary() })).ShouldBeAsync(HttpStatusCode.Created);
        using (var scope = app.Services.CreateScope())
        {
            var dbContext = scope.ServiceProvider.GetRequiredService<CadreDbContext>();
            var row = await dbContext.Secrets.SingleAsync(s => s.WorkspaceId == workspace.Id);
            var altered = row.Ciphertext.ToArray();
            altered[^1] ^= 0xFF;
            row.Ciphertext = altered;
            await dbContext.SaveChangesAsync();
        }

        var flow = await workspace.CreateFlowAsync([Step("call", "http", new { url = echo.Address + "x", headers = new Dictionary<string, string> { ["X-Token"] = "{{ secrets.token }}" } })]);
        var run = await workspace.StartAsync(flow);

        ((string)run["status"]!).ShouldBe("failed");
        var error = RunApi.Step(run, "call")["error"]!;
        ((string)error["type"]!).ShouldBe("secret_unreadable");
        ((string)error["message"]!).ShouldContain("'token'");
        ((bool)error["retryable"]!).ShouldBeFalse();
        echo.Requests.ShouldBeEmpty();
        await (await workspace.Owner.GetAsync(workspace.Runs($"/{run["id"]}"))).ShouldBeAsync(HttpStatusCode.OK);
    }

    [Theory, AllDatabases]
    public async Task Workflow_ReadingSecretsOtherThanByName_IsRefused(DatabaseKind db)
    {
        var app = await SharedApps.Get(db);
        var workspace = await app.CreateWorkspaceAsync();
        var body = WorkflowApi.Body("dynamic");
        body["steps"] = JsonNode.Parse(Api.Serialize(new object[]
        {
            Step("pick", "transform", new { one = "{{ secrets[context.body.name] }}", all = "{{ stringify(secrets) }}", fine = "{{ secrets['a-b'] }} {{ secrets.c }}" },
                new { when = new Dictionary<string, object> { ["{{ secrets[context.body.which] }}"] = new Dictionary<string, object> { ["~exists"] = true } } }),
        }));

        var refused = await (await workspace.Owner.PostAsync(workspace.Workflows(), Api.JsonContent(body))).ShouldBeProblemAsync(HttpStatusCode.UnprocessableEntity);

        refused.Errors!.Keys.Order().ShouldBe(["steps[0].input.all", "steps[0].input.one", "steps[0].when"]);
        refused.Errors["steps[0].input.one"][0].ShouldContain("secrets.NAME");
    }

    [Theory, AllDatabases]
    public async Task Annotation_ReadsASecret_TheServiceGetsIt_TheContextOnlyItsMarker(DatabaseKind db)
    {
        var app = await EngineApps.Get(db);
        await using var echo = await EchoServerAsync();
        var workspace = await app.CreateWorkspaceAsync();
        var value = Canary();
        await (await workspace.Owner.PostJsonAsync(Secrets(workspace), new { name = "crm", value })).ShouldBeAsync(HttpStatusCode.Created);
        var body = WorkflowApi.Body("enriched", new
        {
            annotations = new object[]
            {
                new { id = "customer", annotator = "http", input = new { url = echo.Address + "customers", headers = new Dictionary<string, string> { ["Authorization"] = "Bearer {{ secrets.crm }}" } } },
            },
        });
        body["steps"] = JsonNode.Parse(Api.Serialize(new object[] { Step("read", "transform", new { auth = "{{ context.annotations.customer.body.headers.authorization }}" }) }));
        await (await workspace.Owner.PostAsync(workspace.Workflows(), Api.JsonContent(body))).ShouldBeAsync(HttpStatusCode.Created);

        var annotated = await workspace.Owner.PostJsonAsync(workspace.Workflows("/enriched/annotate"), new { context = new { body = new { } } });
        var run = await workspace.StartAsync("enriched");

        await annotated.ShouldBeAsync(HttpStatusCode.OK);
        (await annotated.Content.ReadAsStringAsync()).ShouldNotContain(value);
        ((string)run["status"]!).ShouldBe("succeeded", run.ToJsonString());
        echo.Requests.Select(r => r.Headers["Authorization"]).ShouldBe([$"Bearer {value}", $"Bearer {value}"]);
        ((string)RunApi.Step(run, "read")["output"]!["auth"]!).ShouldBe("Bearer [secret:crm]");
        (await EverythingShownAsync(workspace, (string)run["id"]!)).ShouldNotContain(value);

        await (await workspace.Owner.DeleteAsync(Secrets(workspace, "/crm"))).ShouldBeAsync(HttpStatusCode.NoContent);
        var failed = await workspace.StartAsync("enriched");
        ((string)failed["status"]!).ShouldBe("failed");
        ((string)failed["error"]!["type"]!).ShouldBe("annotation_failed");
        ((string)failed["error"]!["message"]!).ShouldContain("'crm'");
    }

    [Fact]
    public async Task AgentSkill_HeaderReadsASecret_TheServiceGetsIt_TheModelAndTheRecordsDoNot()
    {
        await using var app = await CadreApp.StartAsync(DatabaseKind.Sqlite, EngineApps.Settings);
        await using var echo = await EchoServerAsync();
        await using var fake = await FakeModelServer.StartAsync();
        var workspace = await app.CreateWorkspaceAsync();
        var value = Canary();
        // Words apart, so a model repeating it streams it over several deltas.
        var spoken = $"open sesame {Guid.NewGuid():N} {Guid.NewGuid():N} now";
        await (await workspace.Owner.PostJsonAsync(Secrets(workspace), new { name = "weather_key", value })).ShouldBeAsync(HttpStatusCode.Created);
        await (await workspace.Owner.PostJsonAsync(Secrets(workspace), new { name = "phrase", value = spoken })).ShouldBeAsync(HttpStatusCode.Created);
        await (await workspace.Owner.PostJsonAsync($"/api/v1/workspaces/{workspace.Name}/providers", new
        {
            name = "fake", kind = "openai", baseUrl = fake.OpenAIEndpoint.ToString(), apiKey = "sk-secret-test-key-0123456789",
        })).ShouldBeAsync(HttpStatusCode.Created);
        await (await workspace.Owner.PostJsonAsync($"/api/v1/workspaces/{workspace.Name}/skills", new
        {
            name = "get_weather",
            kind = "http",
            description = "The weather in a city.",
            config = new
            {
                url = echo.Address + "weather?city={{ args.city }}",
                headers = new Dictionary<string, string> { ["Authorization"] = "Bearer {{ secrets.weather_key }}" },
                parameters = new { type = "object", required = new[] { "city" }, properties = new { city = new { type = "string" } } },
            },
        })).ShouldBeAsync(HttpStatusCode.Created);
        fake.Enqueue(new FakeReply { ToolCalls = [new FakeToolCall("call_1", "get_weather", """{"city": "Oslo"}""")] });
        fake.Enqueue(new FakeReply { Text = $"The phrase is {spoken} and that is all.", TokensPerSecond = 40 });
        var flow = await workspace.CreateFlowAsync([Step("ask", "agent", new
        {
            prompt = "Weather in Oslo? The phrase is {{ secrets.phrase }}.",
            skills = new[] { "get_weather" },
            model = new { provider = "fake", model = "gpt-4o" },
        })]);

        var run = await workspace.StartAsync(flow);

        ((string)run["status"]!).ShouldBe("succeeded", run.ToJsonString());
        echo.Requests.ShouldHaveSingleItem().Headers["Authorization"].ShouldBe($"Bearer {value}");
        var toolAnswer = (string)fake.Requests[1].Body["messages"]!.AsArray().Single(m => (string)m!["role"]! == "tool")!["content"]!;
        toolAnswer.ShouldNotContain(value);
        toolAnswer.ShouldContain("[secret:weather_key]");
        var runId = (string)run["id"]!;
        var shown = await EverythingShownAsync(workspace, runId);
        var stored = await EverythingStoredAsync(app, runId);
        foreach (var secret in new[] { value, spoken })
        {
            shown.ShouldNotContain(secret);
            stored.ShouldNotContain(secret);
            app.Logs.Messages.ShouldNotContain(m => m.Contains(secret, StringComparison.Ordinal));
        }

        var deltas = string.Concat((await workspace.ListAllAsync(workspace.Runs($"/{runId}/events?type=message_delta"))).Select(e => (string)e["data"]!["text"]!));
        deltas.ShouldBe("The phrase is [secret:phrase] and that is all.");
        (await DatabaseFilesAsync(app)).AsSpan().IndexOf(Encoding.UTF8.GetBytes(value)).ShouldBe(-1);
    }
}
