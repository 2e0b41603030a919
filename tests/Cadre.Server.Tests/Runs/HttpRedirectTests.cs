using System.Net;
using Cadre.Storage;

namespace Cadre.Server.Tests.Runs;

/// <summary>Redirects of definitions' HTTP requests: followed, but another origin gets no credentials.</summary>
public sealed class HttpRedirectTests
{
    [Theory, AllDatabases]
    public async Task Redirect_ToAnotherOrigin_DropsCredentialHeaders_ToTheSameOriginKeepsThem(DatabaseKind db)
    {
        await using var elsewhere = await FakeHttpServer.StartAsync(_ => Task.CompletedTask);
        FakeHttpServer? origin = null;
        origin = await FakeHttpServer.StartAsync(context =>
        {
            context.Response.StatusCode = context.Request.Path.Value switch
            {
                "/away" => 302,
                "/here" => 307,
                _ => 200,
            };
            if (context.Request.Path.Value == "/away")
            {
                context.Response.Headers.Location = new Uri(elsewhere.Address, "/landed").ToString();
            }
            else if (context.Request.Path.Value == "/here")
            {
                context.Response.Headers.Location = "/landed";
            }

            return Task.CompletedTask;
        });
        await using var _ = origin;
        var workspace = await (await EngineApps.Get(db)).CreateWorkspaceAsync();
        var headers = new Dictionary<string, string> { ["X-Api-Key"] = "key-do-not-forward", ["Authorization"] = "Bearer token-do-not-forward", ["Accept"] = "application/json" };
        var flow = await workspace.CreateFlowAsync(
        [
            new { id = "away", activity = new { uniqueIdentifier = "http" }, input = new { url = new Uri(origin.Address, "/away").ToString(), headers } },
            new { id = "here", activity = new { uniqueIdentifier = "http" }, dependsOn = new[] { "away" }, input = new { method = "POST", url = new Uri(origin.Address, "/here").ToString(), headers, body = new { n = 1 } } },
        ]);

        var run = await workspace.StartAsync(flow);

        ((string)run["status"]!).ShouldBe("succeeded", run.ToJsonString());
        var landed = elsewhere.Requests.ShouldHaveSingleItem();
        landed.Headers.ContainsKey("X-Api-Key").ShouldBeFalse();
        landed.Headers.ContainsKey("Authorization").ShouldBeFalse();
        landed.Headers["Accept"].ShouldBe("application/json");
        var sameOrigin = origin.Requests.Single(r => r.PathAndQuery == "/landed");
        sameOrigin.Method.ShouldBe("POST");
        sameOrigin.Headers["X-Api-Key"].ShouldBe("key-do-not-forward");
        sameOrigin.Body.ShouldBe("""{"n":1}""");
    }
}
