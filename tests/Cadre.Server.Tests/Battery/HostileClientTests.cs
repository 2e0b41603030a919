using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json.Nodes;
using Cadre.Server.Tests.Workflows;
using Xunit.Abstractions;

namespace Cadre.Server.Tests.Battery;

/// <summary>
/// Battery item 12: event-stream clients that never read, half-open connections (a partial request
/// head, then nothing) and slowloris bodies (a byte a second), all at once against a server process
/// while normal traffic goes on. Kestrel's limits (RequestHeadersTimeout, MinRequestBodyDataRate) and
/// Cadre's stream stall timeout must shed the attackers; normal requests keep succeeding, and the
/// server's descriptors fall back once the attackers go. Latency and memory are printed, not asserted.
/// </summary>
[Trait("Battery", "12")]
[Collection(ServerUnderTest.Collection)]
public sealed class HostileClientTests(ITestOutputHelper output)
{
    private const long MiB = 1024 * 1024;
    private const int StreamClients = 500;
    private const int HalfOpenClients = 100;
    private const int SlowBodyClients = 50;

    /// <summary>Longer than Kestrel's 30 s request-headers timeout, so every half-open connection meets it.</summary>
    private static readonly TimeSpan AttackWindow = TimeSpan.FromSeconds(45);

    [OnDemandFact]
    public async Task SlowAndHostileClients_AreShed_WhileNormalTrafficSucceeds_AndResourcesReturn()
    {
        await using var server = await ServerUnderTest.StartAsync("hostile");
        var flow = WorkflowApi.Body("normal");
        flow["steps"] = JsonNode.Parse("""[{"id": "only", "activity": {"uniqueIdentifier": "transform"}, "input": {"n": 1}}]""");
        await (await server.Admin.PostAsync($"{server.WorkspacePath}/workflows", Api.JsonContent(flow))).ShouldBeAsync(HttpStatusCode.Created);
        var uri = new Uri(server.Process.Url);

        // Unloaded: normal traffic alone, as long as under attack, for its latency and what it alone does to memory.
        await NormalTrafficAsync(server, TimeSpan.FromSeconds(5), CancellationToken.None);
        var unloadedStart = server.ResidentBytes();
        IReadOnlyList<(bool Ok, double Milliseconds)> unloaded;
        long unloadedPeak;
        await using (var memory = new PeakSampler(server.ResidentBytes, TimeSpan.FromMilliseconds(250)))
        {
            unloaded = await NormalTrafficAsync(server, AttackWindow, CancellationToken.None);
            unloadedPeak = memory.Peak;
        }

        var baselineDescriptors = server.OpenDescriptors();
        var baselineMemory = server.ResidentBytes();

        // The attack: streams that are never read, heads that never end, bodies that trickle.
        var attackers = new List<TcpClient>();
        using var stopAttack = new CancellationTokenSource();
        var streamHead = Encoding.ASCII.GetBytes(RawHttp.Head(uri, "GET", $"{server.WorkspacePath}/stream", [("Authorization", $"Bearer {server.AdminKey}")]));
        for (var i = 0; i < StreamClients; i++)
        {
            var client = await RawHttp.ConnectAsync(uri, CancellationToken.None);
            client.ReceiveBufferSize = 4096;
            await client.GetStream().WriteAsync(streamHead);
            attackers.Add(client);
        }

        var halfOpen = new List<TcpClient>();
        for (var i = 0; i < HalfOpenClients; i++)
        {
            var client = await RawHttp.ConnectAsync(uri, CancellationToken.None);
            await client.GetStream().WriteAsync(Encoding.ASCII.GetBytes($"GET {server.WorkspacePath} HTTP/1.1\r\nHost: {uri.Authority}\r\nX-Partial: "));
            halfOpen.Add(client);
        }

        var slowBodies = new List<Task<bool>>();
        var slowClients = new List<TcpClient>();
        for (var i = 0; i < SlowBodyClients; i++)
        {
            var client = await RawHttp.ConnectAsync(uri, CancellationToken.None);
            slowClients.Add(client);
            slowBodies.Add(TrickleAsync(client, uri, server, stopAttack.Token));
        }

        var attackStarted = Stopwatch.StartNew();
        long peakMemory, peakDescriptors;
        IReadOnlyList<(bool Ok, double Milliseconds)> underAttack;
        await using (var memory = new PeakSampler(server.ResidentBytes, TimeSpan.FromMilliseconds(250)))
        await using (var descriptors = new PeakSampler(() => server.OpenDescriptors(), TimeSpan.FromMilliseconds(250)))
        {
            var timeline = Task.Run(async () =>
            {
                // Resident memory every 5 s of the attack: does it level off?
                var samples = new List<long>();
                for (var at = TimeSpan.Zero; at < AttackWindow; at += TimeSpan.FromSeconds(5))
                {
                    samples.Add(server.ResidentBytes() / MiB);
                    await Task.Delay(TimeSpan.FromSeconds(5));
                }

                return samples;
            });
            underAttack = await NormalTrafficAsync(server, AttackWindow, CancellationToken.None);
            output.WriteLine($"RSS every 5 s under attack (MiB): {string.Join(", ", await timeline)}");
            peakMemory = memory.Peak;
            peakDescriptors = descriptors.Peak;
        }

        var duringDescriptors = server.OpenDescriptors();
        var halfOpenClosed = (await Task.WhenAll(halfOpen.Select(c => ClosedByServerAsync(c, TimeSpan.FromSeconds(30))))).Count(closed => closed);
        await stopAttack.CancelAsync();
        var slowCut = (await Task.WhenAll(slowBodies)).Count(cut => cut);
        var attackLasted = attackStarted.Elapsed;

        // The attackers go; the server's descriptors come back near where they were.
        foreach (var client in attackers.Concat(halfOpen).Concat(slowClients))
        {
            client.Dispose();
        }

        var afterDescriptors = await Eventually.HoldsAsync(() => server.OpenDescriptors(), open => open <= baselineDescriptors + 20,
            "the server closed the attackers' connections", seconds: 60);
        var afterMemory = server.ResidentBytes();
        var after = await NormalTrafficAsync(server, TimeSpan.FromSeconds(5), CancellationToken.None);
        var healthy = await server.IsHealthyAsync();

        var p99Unloaded = Percentile(unloaded, 0.99);
        var p99Attacked = Percentile(underAttack, 0.99);
        BatteryReport.Write(output, 12, "slow and hostile clients",
            ("stream clients", StreamClients), ("half-open", HalfOpenClients), ("slow bodies", SlowBodyClients), ("attack s", (int)attackLasted.TotalSeconds),
            ("normal requests", unloaded.Count + underAttack.Count + after.Count), ("normal failed", unloaded.Concat(underAttack).Concat(after).Count(r => !r.Ok)),
            ("p99 unloaded ms", p99Unloaded), ("p99 attacked ms", p99Attacked), ("p99 ratio", p99Attacked / p99Unloaded),
            ("half-open closed by server", halfOpenClosed), ("slow bodies cut by server", slowCut),
            ("fds before", baselineDescriptors), ("fds peak", peakDescriptors), ("fds during", duringDescriptors), ("fds after", afterDescriptors),
            ("RSS unloaded start MiB", unloadedStart / MiB), ("RSS unloaded peak MiB", unloadedPeak / MiB), ("RSS before attack MiB", baselineMemory / MiB), ("RSS peak MiB", peakMemory / MiB), ("RSS after MiB", afterMemory / MiB));

        unloaded.Concat(underAttack).Concat(after).ShouldAllBe(r => r.Ok, "every normal request succeeded");
        healthy.ShouldBeTrue("the server is alive and answers /healthz");
        peakDescriptors.ShouldBeGreaterThan(baselineDescriptors + StreamClients, "the stream clients were connected at once");
        halfOpenClosed.ShouldBe(HalfOpenClients, "every half-open connection was closed by the server's request-headers timeout");
        slowCut.ShouldBe(SlowBodyClients, "every slowloris body was cut off by the server's minimum data rate");
        (peakMemory - baselineMemory).ShouldBeLessThan(500 * MiB, "memory does not grow without bound");
    }

    /// <summary>
    /// Reads the workflow and, every fifth request, starts a run (events for the streams), paced at 50 requests a second
    /// (as long as answers keep up), for <paramref name="duration"/>.
    /// </summary>
    private static async Task<IReadOnlyList<(bool Ok, double Milliseconds)>> NormalTrafficAsync(ServerUnderTest server, TimeSpan duration, CancellationToken cancellationToken)
    {
        var results = new List<(bool, double)>();
        var until = Stopwatch.StartNew();
        while (until.Elapsed < duration)
        {
            var slot = TimeSpan.FromMilliseconds(20 * results.Count) - until.Elapsed;
            if (slot > TimeSpan.Zero)
            {
                await Task.Delay(slot, cancellationToken);
            }

            var started = Stopwatch.GetTimestamp();
            using var response = results.Count % 5 == 4
                ? await server.Admin.PostAsync($"{server.WorkspacePath}/workflows/normal/runs", Api.JsonContent(new { }), cancellationToken)
                : await server.Admin.GetAsync($"{server.WorkspacePath}/workflows/normal", cancellationToken);
            await response.Content.ReadAsByteArrayAsync(cancellationToken);
            results.Add((response.IsSuccessStatusCode, Stopwatch.GetElapsedTime(started).TotalMilliseconds));
        }

        return results;
    }

    /// <summary>A JSON create whose declared body arrives a byte a second; true once the server answers or closes the connection.</summary>
    private static async Task<bool> TrickleAsync(TcpClient client, Uri uri, ServerUnderTest server, CancellationToken stop)
    {
        var stream = client.GetStream();
        var head = RawHttp.Head(uri, "POST", $"{server.WorkspacePath}/personas",
            [("Authorization", $"Bearer {server.AdminKey}"), ("Content-Type", "application/json"), ("Content-Length", "100000")]);
        await stream.WriteAsync(Encoding.ASCII.GetBytes(head + "{\"name\": \""), stop);
        // Not cancelled with the attack: only the server ends this read (an answer, a close, a reset) until the client is disposed.
        var answered = RawHttp.ReadHeadAsync(stream, CancellationToken.None);
        try
        {
            while (!answered.IsCompleted)
            {
                await Task.Delay(TimeSpan.FromSeconds(1), stop);
                await stream.WriteAsync("a"u8.ToArray(), stop);
            }
        }
        catch (IOException)
        {
            // Cut off.
            return true;
        }
        catch (OperationCanceledException)
        {
            // The attack ended; cut or not, the read says.
        }

        return answered.IsCompleted;
    }

    /// <summary>Whether the server closes the connection (with or without a 408 first) within <paramref name="within"/>.</summary>
    private static async Task<bool> ClosedByServerAsync(TcpClient client, TimeSpan within)
    {
        using var deadline = new CancellationTokenSource(within);
        var buffer = new byte[4096];
        try
        {
            while (await client.GetStream().ReadAsync(buffer, deadline.Token) > 0)
            {
                // A 408 answer may come first; the close follows.
            }

            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
        catch (IOException)
        {
            return true;
        }
    }

    private static double Percentile(IReadOnlyList<(bool Ok, double Milliseconds)> results, double fraction)
    {
        var sorted = results.Select(r => r.Milliseconds).Order().ToList();
        return sorted.Count == 0 ? 0 : sorted[Math.Min(sorted.Count - 1, (int)Math.Ceiling(fraction * sorted.Count) - 1)];
    }
}
