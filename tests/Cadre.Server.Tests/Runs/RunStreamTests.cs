using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json.Nodes;
using Cadre.Runs;
using Cadre.Server.Runs;
using Cadre.Storage;
using Microsoft.Extensions.DependencyInjection;

namespace Cadre.Server.Tests.Runs;

/// <summary>Server-sent events: exact resumption, many subscribers, and a client that stops reading.</summary>
public sealed class RunStreamTests
{
    [Theory, AllDatabases]
    public async Task Stream_ResumedWithLastEventId_ContinuesExactly(DatabaseKind db)
    {
        var app = await EngineApps.Get(db);
        var workspace = await app.CreateWorkspaceAsync();
        var flow = await workspace.CreateFlowAsync(Chain(10));
        var run = await workspace.StartAsync(flow);
        var id = (string)run["id"]!;

        var all = await ReadStreamAsync(workspace.Owner, workspace.Runs($"/{id}/stream"));
        var history = await workspace.ListAllAsync(workspace.Runs($"/{id}/events"));

        all.Select(e => e.Id).ShouldBe(history.Select(e => (long)e["id"]!));
        all[^1].Type.ShouldBe("status");
        all[^1].Data["status"]!.GetValue<string>().ShouldBe("succeeded");
        foreach (var cut in new[] { 0, 5, all.Count - 2 })
        {
            var resumed = await ReadStreamAsync(workspace.Owner, workspace.Runs($"/{id}/stream"), lastEventId: all[cut].Id);
            resumed.Select(e => e.Id).ShouldBe(all.Skip(cut + 1).Select(e => e.Id));
        }

        var steps = await ReadStreamAsync(workspace.Owner, workspace.Runs($"/{id}/stream?type=step,status"));
        steps.ShouldAllBe(e => e.Type == "step" || e.Type == "status");
    }

    [Theory, AllDatabases]
    public async Task Stream_TwoHundredSubscribers_AllGetEveryEvent(DatabaseKind db)
    {
        var app = await EngineApps.Get(db);
        var workspace = await app.CreateWorkspaceAsync();
        var steps = new List<object> { new { id = "nap", activity = new { uniqueIdentifier = "sleep" }, input = new { duration = "1500ms" } } };
        steps.AddRange(Chain(20, after: "nap"));
        var flow = await workspace.CreateFlowAsync([.. steps]);
        var run = await workspace.StartAsync(flow, wait: null);
        var id = (string)run["id"]!;

        // Subscribed while the run sleeps: each replays what it missed, then follows live to the end.
        var readers = Enumerable.Range(0, 200).Select(_ => ReadStreamAsync(workspace.Owner, workspace.Runs($"/{id}/stream"))).ToList();
        var results = await Task.WhenAll(readers);

        var history = (await workspace.ListAllAsync(workspace.Runs($"/{id}/events"))).Select(e => (long)e["id"]!).ToList();
        history.Count.ShouldBeGreaterThan(40);
        results.ShouldAllBe(events => events.Select(e => e.Id).SequenceEqual(history));
    }

    [Fact]
    public async Task Stream_FiftySubscribersOfAWorkspace_ShareTheirReads_AndEachGetsEveryEventOnce()
    {
        // An app of its own: the reads counted are these subscribers' alone.
        await using var app = await CadreApp.StartAsync(DatabaseKind.Sqlite, EngineApps.Settings);
        var workspace = await app.CreateWorkspaceAsync();
        var reads = app.Services.GetRequiredService<SharedEventReads>();
        // Each sleep makes two commits (its wait, then its timer): many commits, each waking every subscriber.
        var flow = await workspace.CreateFlowAsync(
        [
            new { id = "a", activity = new { uniqueIdentifier = "sleep" }, input = new { duration = "1ms" } },
            new { id = "b", activity = new { uniqueIdentifier = "sleep" }, dependsOn = new[] { "a" }, input = new { duration = "1ms" } },
            new { id = "c", activity = new { uniqueIdentifier = "sleep" }, dependsOn = new[] { "b" }, input = new { duration = "1ms" } },
        ]);
        const int Subscribers = 50, Runs = 10;
        using var stop = new CancellationTokenSource();
        var received = Enumerable.Range(0, Subscribers).Select(_ => new List<StreamEvent>()).ToList();
        var streams = received.Select(into => Follow(workspace.Owner, $"/api/v1/workspaces/{workspace.Name}/stream", into, stop.Token)).ToList();
        var notifier = app.Services.GetRequiredService<RunNotifier>();
        await WaitUntilAsync(() => notifier.SubscriberCount == Subscribers);

        var runIds = await Task.WhenAll(Enumerable.Range(0, Runs).Select(async _ => (string)(await workspace.StartAsync(flow, wait: null))["id"]!));
        foreach (var id in runIds)
        {
            await workspace.WaitForRunAsync(id);
        }

        var history = new List<long>();
        foreach (var id in runIds)
        {
            history.AddRange((await workspace.ListAllAsync(workspace.Runs($"/{id}/events"))).Select(e => (long)e["id"]!));
        }

        history.Sort();
        await WaitUntilAsync(() => received.All(events => events.Count >= history.Count));
        await stop.CancelAsync();
        await Task.WhenAll(streams);

        history.Count.ShouldBeGreaterThanOrEqualTo(Runs * 8);
        received.ShouldAllBe(events => events.Select(e => e.Id).SequenceEqual(history), "every subscriber got every event once, in order");
        // Alone, each subscriber reads once per wake-up (over a thousand reads here); together they read about once per commit.
        reads.Queries.ShouldBeLessThan(Subscribers * Runs, $"{reads.Queries} reads for {Subscribers} subscribers and {history.Count} events");
    }

    [Theory, AllDatabases]
    public async Task SharedReads_JoinOnlyAReadFreshEnough_OrAFinalFullPage(DatabaseKind db)
    {
        await using var app = await CadreApp.StartAsync(db, EngineApps.Settings);
        var workspace = await app.CreateWorkspaceAsync();
        var run = await workspace.StartAsync(await workspace.CreateFlowAsync(Chain(60)));
        var reads = app.Services.GetRequiredService<SharedEventReads>();
        var tail = new SharedEventReads.StreamPosition(workspace.Id, null, null, 0);

        var first = await reads.ReadAsync(tail, Stopwatch.GetTimestamp(), CancellationToken.None);
        first.Count.ShouldBe(SharedEventReads.PageSize);
        var afterFirstPage = tail with { After = first[^1].Id };
        var before = Stopwatch.GetTimestamp();
        var second = await reads.ReadAsync(afterFirstPage, before, CancellationToken.None);
        second.Count.ShouldBeLessThan(SharedEventReads.PageSize);
        reads.Queries.ShouldBe(2);

        // The tail read started after 'before': as fresh as a wake-up raised then needs, so shared.
        (await reads.ReadAsync(afterFirstPage, before, CancellationToken.None)).ShouldBeSameAs(second);
        reads.Queries.ShouldBe(2);
        // A wake-up raised since (a commit since) needs a read that started after it: a new query.
        (await reads.ReadAsync(afterFirstPage, Stopwatch.GetTimestamp(), CancellationToken.None)).Count.ShouldBe(second.Count);
        reads.Queries.ShouldBe(3);

        // A full page of a run's stream is final: a subscriber needing news from now on still shares it.
        var ofRun = tail with { RunId = (string)run["id"]! };
        var runPage = await reads.ReadAsync(ofRun, Stopwatch.GetTimestamp(), CancellationToken.None);
        runPage.Count.ShouldBe(SharedEventReads.PageSize);
        (await reads.ReadAsync(ofRun, Stopwatch.GetTimestamp(), CancellationToken.None)).ShouldBeSameAs(runPage);
        reads.Queries.ShouldBe(4);
        // So is a workspace's on SQLite; on PostgreSQL two runs' events can become visible out of id order, so not there.
        var again = await reads.ReadAsync(tail, Stopwatch.GetTimestamp(), CancellationToken.None);
        if (db == DatabaseKind.Sqlite)
        {
            again.ShouldBeSameAs(first);
            reads.Queries.ShouldBe(4);
        }
        else
        {
            again.ShouldNotBeSameAs(first);
            again.Select(e => e.Id).ShouldBe(first.Select(e => e.Id));
            reads.Queries.ShouldBe(5);
        }
    }

    /// <summary>Follows a stream that does not end until <paramref name="stop"/>, collecting into <paramref name="into"/>.</summary>
    private static async Task Follow(HttpClient client, string path, List<StreamEvent> into, CancellationToken stop)
    {
        try
        {
            await ReadStreamAsync(client, path, into: into, cancellation: stop);
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            // Stopped by the test.
        }
    }

    [Fact]
    public async Task Stream_ClientThatStopsReading_IsCutOff_WithoutHoldingMemory()
    {
        var settings = new Dictionary<string, string?>(EngineApps.Settings) { ["Cadre:Http:StreamStallTimeout"] = "00:00:01" };
        await using var app = await CadreApp.StartAsync(DatabaseKind.Sqlite, settings);
        var workspace = await app.CreateWorkspaceAsync();
        // The run's final event carries its output: ten copies of half a megabyte, more than the sockets' buffers hold.
        var flow = await workspace.CreateFlowAsync(
        [
            new { id = "nap", activity = new { uniqueIdentifier = "sleep" }, input = new { duration = "1s" } },
            new { id = "g1", activity = new { uniqueIdentifier = "transform" }, dependsOn = new[] { "nap" }, input = new { s = new string('x', 500) } },
            new { id = "g2", activity = new { uniqueIdentifier = "transform" }, dependsOn = new[] { "g1" }, input = new { s = "{{ replace(steps.g1.output.s, 'x', 'xxxxxxxxxx') }}" } },
            new { id = "g3", activity = new { uniqueIdentifier = "transform" }, dependsOn = new[] { "g2" }, input = new { s = "{{ replace(steps.g2.output.s, 'x', 'xxxxxxxxxx') }}" } },
            new { id = "g4", activity = new { uniqueIdentifier = "transform" }, dependsOn = new[] { "g3" }, input = new { s = "{{ replace(steps.g3.output.s, 'x', 'xxxxxxxxxx') }}" } },
            new { id = "g5", activity = new { uniqueIdentifier = "transform" }, dependsOn = new[] { "g4" }, input = Enumerable.Range(1, 10).ToDictionary(i => $"s{i}", _ => "{{ steps.g4.output.s }}") },
        ]);
        var run = await workspace.StartAsync(flow, wait: null);
        var notifier = app.Services.GetRequiredService<RunNotifier>();
        var uri = new Uri(app.Client().BaseAddress!, workspace.Runs($"/{run["id"]}/stream"));

        // A raw client with a tiny receive window that sends its request and never reads.
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { ReceiveBufferSize = 1024 };
        await socket.ConnectAsync(uri.Host, uri.Port);
        await socket.SendAsync(Encoding.ASCII.GetBytes($"GET {uri.PathAndQuery} HTTP/1.1\r\nHost: {uri.Authority}\r\nAuthorization: Bearer {workspace.OwnerKey}\r\n\r\n"));
        await WaitUntilAsync(() => notifier.SubscriberCount == 1);

        var done = await workspace.WaitForRunAsync((string)run["id"]!, seconds: 120);

        ((string)done["status"]!).ShouldBe("succeeded", done["error"]?.ToJsonString());
        // The engine finished regardless, and the stalled subscriber was dropped rather than buffered.
        await WaitUntilAsync(() => notifier.SubscriberCount == 0);
        var received = await DrainAsync(socket);
        var history = await workspace.ListAllAsync(workspace.Runs($"/{run["id"]}/events"));
        CountOccurrences(received, "\nid: ").ShouldBeLessThan(history.Count, "the stream was cut off, not carried to its end");
        received.ShouldNotContain("event: status\ndata: {\"status\":\"succeeded\"");
    }

    /// <summary>Reads what the server sent until it closes the connection.</summary>
    private static async Task<string> DrainAsync(Socket socket)
    {
        var received = new StringBuilder();
        var buffer = new byte[64 * 1024];
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        try
        {
            int read;
            while ((read = await socket.ReceiveAsync(buffer, SocketFlags.None, timeout.Token)) > 0)
            {
                received.Append(Encoding.UTF8.GetString(buffer, 0, read));
            }
        }
        catch (SocketException)
        {
            // Reset by the server: the same as a close for this test.
        }

        return received.ToString();
    }

    private static int CountOccurrences(string text, string value)
    {
        var count = 0;
        for (var at = text.IndexOf(value, StringComparison.Ordinal); at >= 0; at = text.IndexOf(value, at + 1, StringComparison.Ordinal))
        {
            count++;
        }

        return count;
    }

    [Theory, AllDatabases]
    public async Task Stream_OfARetriedRun_ReplaysPastItsFirstEnding(DatabaseKind db)
    {
        var app = await EngineApps.Get(db);
        var workspace = await app.CreateWorkspaceAsync();
        var healthy = false;
        await using var server = await FakeHttpServer.StartAsync(context =>
        {
            context.Response.StatusCode = Volatile.Read(ref healthy) ? 200 : 400;
            return Task.CompletedTask;
        });
        var flow = await workspace.CreateFlowAsync([new { id = "call", activity = new { uniqueIdentifier = "http" }, input = new { url = server.Address + "x" }, retryPolicy = new { maximumAttempts = 1 } }]);
        var run = await workspace.StartAsync(flow);
        ((string)run["status"]!).ShouldBe("failed");
        Volatile.Write(ref healthy, true);
        await (await workspace.Owner.PostAsync(workspace.Runs($"/{run["id"]}/retry"), null)).ShouldBeAsync(HttpStatusCode.OK);
        await workspace.WaitForRunAsync((string)run["id"]!);

        var events = await ReadStreamAsync(workspace.Owner, workspace.Runs($"/{run["id"]}/stream?type=status"));

        events.Select(e => e.Data["status"]!.GetValue<string>()).ShouldBe(["queued", "running", "failed", "running", "succeeded"]);
    }

    private static object[] Chain(int length, string? after = null) => [.. Enumerable.Range(1, length).Select(i => (object)new
    {
        id = $"s{i}",
        activity = new { uniqueIdentifier = "transform" },
        dependsOn = i == 1 ? (after is null ? Array.Empty<string>() : [after]) : [$"s{i - 1}"],
        input = new { n = i },
    })];

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException("The condition did not hold within 60 s.");
            }

            await Task.Delay(50);
        }
    }

    internal sealed record StreamEvent(long Id, string Type, JsonObject Data);

    /// <summary>Reads a stream to its end, as an EventSource would (ignoring heartbeats).</summary>
    internal static async Task<List<StreamEvent>> ReadStreamAsync(
        HttpClient client, string path, long? lastEventId = null, List<StreamEvent>? into = null, CancellationToken cancellation = default)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        if (lastEventId is { } last)
        {
            request.Headers.Add("Last-Event-ID", last.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
        timeout.CancelAfter(TimeSpan.FromSeconds(60));
        using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        response.Content.Headers.ContentType!.MediaType.ShouldBe("text/event-stream");
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(timeout.Token));
        var events = into ?? [];
        string? id = null, type = null;
        var data = new StringBuilder();
        while (await reader.ReadLineAsync(timeout.Token) is { } line)
        {
            if (line.Length == 0)
            {
                if (id is not null && type is not null)
                {
                    events.Add(new StreamEvent(long.Parse(id, System.Globalization.CultureInfo.InvariantCulture), type, JsonNode.Parse(data.ToString())!.AsObject()));
                }

                id = type = null;
                data.Clear();
                continue;
            }

            if (line.StartsWith("id: ", StringComparison.Ordinal))
            {
                id = line[4..];
            }
            else if (line.StartsWith("event: ", StringComparison.Ordinal))
            {
                type = line[7..];
            }
            else if (line.StartsWith("data: ", StringComparison.Ordinal))
            {
                data.Append(line[6..]);
            }
        }

        return events;
    }
}
