using System.Net;
using System.Text.Json.Nodes;
using Cadre.Server.Tests.Infrastructure;

namespace Cadre.Server.Tests.Llm;

/// <summary>A Cadre server process (for tests that kill it) with a workspace wired to a fake model server.</summary>
internal static class ModelServerProcess
{
    public static (Dictionary<string, string> Environment, string AdminKey) Environment()
    {
        var adminKey = "cadre_test_admin_" + Guid.NewGuid().ToString("N");
        return (new Dictionary<string, string>
        {
            ["CADRE_ADMIN_KEY"] = adminKey,
            ["CADRE_OUTBOUND_ALLOW_PRIVATE_NETWORKS"] = "true",
            ["CADRE_ENGINE_POLL_INTERVAL"] = "00:00:00.100",
            ["CADRE_RATE_LIMIT_PERMITS_PER_SECOND"] = "0",
        }, adminKey);
    }

    /// <summary>Waits for the server, then makes a workspace with an owner key and the provider <c>fake</c>.</summary>
    public static async Task<(string WorkspaceName, string OwnerKey)> CreateWorkspaceAsync(ServerProcess server, string adminKey, FakeModelServer fake, string apiKey)
    {
        await server.WaitUntilListeningAsync();
        using var admin = server.Client(adminKey);
        var workspaceName = Api.UniqueName("agent");
        await (await admin.PostJsonAsync("/api/v1/workspaces", new { name = workspaceName })).ShouldBeAsync(HttpStatusCode.Created);
        var ownerKey = await admin.CreateKeyAsync(workspaceName, "owner");
        using var owner = server.Client(ownerKey);
        await (await owner.PostJsonAsync($"/api/v1/workspaces/{workspaceName}/providers", new
        {
            name = "fake", kind = "openai", baseUrl = fake.OpenAIEndpoint.ToString(), apiKey,
        })).ShouldBeAsync(HttpStatusCode.Created);
        return (workspaceName, ownerKey);
    }

    /// <summary>Polls a run through <paramref name="client"/> until <paramref name="done"/> holds or a minute passes; answers the last read.</summary>
    public static async Task<JsonObject> WaitForRunAsync(HttpClient client, string runPath, Func<JsonObject, bool> done)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        JsonObject run;
        do
        {
            await Task.Delay(50);
            run = await (await client.GetAsync(runPath)).ReadObjectAsync();
        }
        while (!done(run) && DateTime.UtcNow < deadline);
        return run;
    }
}
