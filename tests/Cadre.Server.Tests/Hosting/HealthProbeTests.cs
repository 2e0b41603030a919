using System.Net;
using System.Net.Sockets;
using Cadre.Server.Health;
using Microsoft.AspNetCore.Http;

namespace Cadre.Server.Tests.Hosting;

/// <summary><c>dotnet Cadre.Server.dll healthcheck</c>, the container's HEALTHCHECK, as Docker runs it: a process of its own.</summary>
public sealed class HealthProbeTests
{
    [Fact]
    public async Task Healthcheck_RunningServer_ExitsZero()
    {
        await using var server = ServerProcess.Start(TestDirectories.Create("process"), new Dictionary<string, string>());
        await server.WaitUntilListeningAsync();
        await WarmUpAsync(server);

        var (exitCode, output) = await ServerProcess.RunAsync(new Dictionary<string, string>(), HealthProbe.Command, server.Url);

        exitCode.ShouldBe(0, output);
        output.ShouldContain($"healthy: {server.Url}/healthz answered 200");
    }

    [Fact]
    public async Task Healthcheck_WithoutUrl_AsksThePortTheServerWasGiven()
    {
        await using var server = ServerProcess.Start(TestDirectories.Create("process"), new Dictionary<string, string>());
        await server.WaitUntilListeningAsync();
        await WarmUpAsync(server);

        // As in the image: the server and the probe read the same ASPNETCORE_HTTP_PORTS.
        var (exitCode, output) = await ServerProcess.RunAsync(
            new Dictionary<string, string> { ["ASPNETCORE_HTTP_PORTS"] = new Uri(server.Url).Port.ToString(System.Globalization.CultureInfo.InvariantCulture) },
            HealthProbe.Command);

        exitCode.ShouldBe(0, output);
    }

    /// <summary>A process's first request compiles the pipeline, slow on a loaded machine: the probe's timeout is for a server that runs.</summary>
    private static async Task WarmUpAsync(ServerProcess server)
    {
        using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(60) };
        (await client.GetAsync(server.Url + "/healthz")).StatusCode.ShouldBe(HttpStatusCode.OK);
    }

    [Fact]
    public async Task Healthcheck_NothingListening_ExitsNonZero()
    {
        var (exitCode, output) = await ServerProcess.RunAsync(new Dictionary<string, string>(), HealthProbe.Command, $"http://127.0.0.1:{FreePort()}");

        exitCode.ShouldBe(1, output);
        output.ShouldContain("unhealthy: ");
        output.ShouldNotContain("Cadre is listening");
    }

    [Fact]
    public async Task Healthcheck_ServerAnsweringAnError_ExitsNonZero()
    {
        await using var unwell = await FakeHttpServer.StartAsync(context =>
        {
            context.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
            return Task.CompletedTask;
        });

        var (exitCode, output) = await ServerProcess.RunAsync(new Dictionary<string, string>(), HealthProbe.Command, new Uri(unwell.Address, "/readyz").ToString());

        exitCode.ShouldBe(1, output);
        output.ShouldContain("answered 503");
        unwell.Requests.ShouldHaveSingleItem().PathAndQuery.ShouldBe("/readyz");
    }

    [Fact]
    public async Task Healthcheck_BadArguments_ExitsWithUsage()
    {
        var (exitCode, output) = await ServerProcess.RunAsync(new Dictionary<string, string>(), HealthProbe.Command, "not a url");

        exitCode.ShouldBe(2);
        output.ShouldContain("usage: ");
    }

    [Theory]
    [InlineData(null, null, "http://localhost:5080/healthz")]
    [InlineData(null, "8080", "http://127.0.0.1:8080/healthz")]
    [InlineData(null, "8080;8081", "http://127.0.0.1:8080/healthz")]
    [InlineData("http://+:9000", "8080", "http://127.0.0.1:9000/healthz")]
    [InlineData("https://0.0.0.0:9443;http://*:9000", null, "http://127.0.0.1:9000/healthz")]
    [InlineData("http://[::]:9000", null, "http://127.0.0.1:9000/healthz")]
    [InlineData("http://cadre.internal:9000/", null, "http://cadre.internal:9000/healthz")]
    public void DefaultTarget_FollowsKestrelsSettings(string? urls, string? ports, string expected)
    {
        var environment = new Dictionary<string, string?> { ["ASPNETCORE_URLS"] = urls, ["ASPNETCORE_HTTP_PORTS"] = ports };

        HealthProbe.DefaultTarget(environment)!.ToString().ShouldBe(expected);
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
