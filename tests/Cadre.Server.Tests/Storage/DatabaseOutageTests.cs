using System.Net;
using Cadre.Storage;

namespace Cadre.Server.Tests.Storage;

/// <summary>The database goes away under a running server: clear 503s, no lost acknowledged work, recovery when it returns.</summary>
public sealed class DatabaseOutageTests
{
    [PostgresFact]
    public async Task PostgresStops_ApiAnswers503AndReadinessFails_ThenRecovers()
    {
        await using var cluster = await PostgresCluster.StartAsync();
        await using var app = await CadreApp.StartAsync(DatabaseKind.Postgres, databaseSetting: await cluster.CreateDatabaseAsync());
        var workspace = await app.CreateWorkspaceAsync();
        using var anonymous = app.Client();

        await cluster.StopServerAsync();

        var during = await workspace.Owner.GetAsync($"/api/v1/workspaces/{workspace.Name}");
        (await during.ShouldBeProblemAsync(HttpStatusCode.ServiceUnavailable)).Detail!.ShouldContain("database");
        during.Headers.RetryAfter.ShouldNotBeNull();
        var write = await workspace.Owner.PatchJsonAsync($"/api/v1/workspaces/{workspace.Name}", new { displayName = "during outage" });
        await write.ShouldBeProblemAsync(HttpStatusCode.ServiceUnavailable);
        await (await anonymous.GetAsync("/readyz")).ShouldBeAsync(HttpStatusCode.ServiceUnavailable);
        await (await anonymous.GetAsync("/healthz")).ShouldBeAsync(HttpStatusCode.OK);

        await cluster.StartServerAsync();

        var after = await RetryUntilOkAsync(() => workspace.Owner.GetAsync($"/api/v1/workspaces/{workspace.Name}"));
        ((string)(await after.ReadObjectAsync())["displayName"]!).ShouldBe(workspace.Name);
        await RetryUntilOkAsync(() => anonymous.GetAsync("/readyz"));
    }

    /// <summary>Npgsql drops broken pooled connections as it meets them; allow a few attempts, bounded by a deadline.</summary>
    private static async Task<HttpResponseMessage> RetryUntilOkAsync(Func<Task<HttpResponseMessage>> send)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            var response = await send();
            if (response.StatusCode == HttpStatusCode.OK || DateTime.UtcNow > deadline)
            {
                await response.ShouldBeAsync(HttpStatusCode.OK);
                return response;
            }

            response.StatusCode.ShouldBe(HttpStatusCode.ServiceUnavailable);
        }
    }
}
