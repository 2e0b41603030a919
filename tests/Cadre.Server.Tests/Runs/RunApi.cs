using System.Net;
using System.Text.Json.Nodes;
using Cadre.Server.Tests.Workflows;
using Cadre.Storage;

namespace Cadre.Server.Tests.Runs;

/// <summary>Helpers for the engine tests.</summary>
internal static class RunApi
{
    public static string Runs(this TestWorkspace workspace, string rest = "") => $"/api/v1/workspaces/{workspace.Name}/runs{rest}";

    /// <summary>Creates a workflow of the given steps (and other fields), answering its name.</summary>
    public static async Task<string> CreateFlowAsync(this TestWorkspace workspace, object[] steps, object? extra = null, string? name = null)
    {
        name ??= Api.UniqueName("flow");
        var body = WorkflowApi.Body(name);
        body["steps"] = JsonNode.Parse(Api.Serialize(steps));
        foreach (var (key, value) in extra is null ? [] : JsonNode.Parse(Api.Serialize(extra))!.AsObject())
        {
            body[key] = value?.DeepClone();
        }

        var response = await workspace.Owner.PostAsync(workspace.Workflows(), Api.JsonContent(body));
        await response.ShouldBeAsync(HttpStatusCode.Created);
        return name;
    }

    public static async Task<JsonObject> StartAsync(this TestWorkspace workspace, string workflow, object? body = null, string? wait = "30s", string? idempotencyKey = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, workspace.Workflows($"/{workflow}/runs" + (wait is null ? "" : $"?wait={wait}")))
        {
            Content = Api.JsonContent(body ?? new { }),
        };
        if (idempotencyKey is not null)
        {
            request.Headers.Add("Idempotency-Key", idempotencyKey);
        }

        var response = await workspace.Owner.SendAsync(request);
        if (response.StatusCode != HttpStatusCode.OK)
        {
            await response.ShouldBeAsync(HttpStatusCode.Created);
        }

        return await response.ReadObjectAsync();
    }

    public static async Task<JsonObject> GetRunAsync(this TestWorkspace workspace, string runId)
    {
        var response = await workspace.Owner.GetAsync(workspace.Runs($"/{runId}"));
        await response.ShouldBeAsync(HttpStatusCode.OK);
        return await response.ReadObjectAsync();
    }

    /// <summary>Polls the run until <paramref name="done"/> holds (by default: it ended or halted), failing after a deadline.</summary>
    public static async Task<JsonObject> WaitForRunAsync(this TestWorkspace workspace, string runId, Func<JsonObject, bool>? done = null, int seconds = 30)
    {
        done ??= run => (string)run["status"]! is "succeeded" or "failed" or "compensated" or "halted";
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (true)
        {
            var run = await workspace.GetRunAsync(runId);
            if (done(run))
            {
                return run;
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"Run {runId} did not get there in {seconds} s; it is {run.ToJsonString()}");
            }

            await Task.Delay(50);
        }
    }

    public static JsonObject Step(JsonObject run, string id) => run["steps"]!.AsArray().Single(s => (string)s!["id"]! == id)!.AsObject();

    public static string StepStatus(JsonObject run, string id) => (string)Step(run, id)["status"]!;

    public static async Task<List<JsonObject>> ListAllAsync(this TestWorkspace workspace, string path)
    {
        var items = new List<JsonObject>();
        string? next = path + (path.Contains('?') ? "&" : "?") + "limit=100";
        while (next is not null)
        {
            var response = await workspace.Owner.GetAsync(next);
            await response.ShouldBeAsync(HttpStatusCode.OK);
            var page = await response.ReadObjectAsync();
            items.AddRange(page["results"]!.AsArray().Select(i => i!.AsObject()));
            next = (string?)page["next"];
        }

        return items;
    }
}

/// <summary>One engine app per database whose outbound HTTP may reach the tests' local servers.</summary>
public static class EngineApps
{
    public static readonly Dictionary<string, string?> Settings = new()
    {
        ["Cadre:Outbound:AllowPrivateNetworks"] = "true",
        ["Cadre:Engine:PollInterval"] = "00:00:00.100",
    };

    private static readonly Dictionary<DatabaseKind, Lazy<Task<CadreApp>>> Apps = new()
    {
        [DatabaseKind.Sqlite] = new(() => CadreApp.StartAsync(DatabaseKind.Sqlite, Settings)),
        [DatabaseKind.Postgres] = new(() => CadreApp.StartAsync(DatabaseKind.Postgres, Settings)),
    };

    public static Task<CadreApp> Get(DatabaseKind database) => Apps[database].Value;
}
