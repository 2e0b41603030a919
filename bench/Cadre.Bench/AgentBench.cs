using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;

namespace Cadre.Bench;

/// <summary>
/// The model workloads (issue 7) against a local fake OpenAI-compatible server that waits 200 ms
/// before its first token and then streams 50 tokens a second:
/// <list type="bullet">
/// <item>agent overhead: time to the first token at an SSE client of the run, from the start
/// request, against the same call made straight to the fake server;</item>
/// <item>streaming at scale: many runs streaming at once, each followed by several SSE subscribers
/// (1 000 in all), every subscriber checked to have received every token.</item>
/// </list>
/// </summary>
public static class AgentBench
{
    private static readonly TimeSpan FirstToken = TimeSpan.FromMilliseconds(200);
    private const double TokensPerSecond = 50;

    public static async Task<Figures> RunAsync(BenchServer server, BenchSettings settings, int streamingRuns, int subscribers, TextWriter output)
    {
        var figures = new Figures("Agent overhead", Figures.DatabaseOf(settings.Database));
        using var model = new FakeStreamingModel(FirstToken, TokensPerSecond);
        using var handler = new SocketsHttpHandler { MaxConnectionsPerServer = 4096, PooledConnectionLifetime = Timeout.InfiniteTimeSpan };
        using var client = new HttpClient(handler) { BaseAddress = server.BaseAddress, Timeout = TimeSpan.FromMinutes(5) };
        client.DefaultRequestHeaders.Authorization = new("Bearer", server.AdminKey);
        var workspace = "agents-" + DateTime.UtcNow.ToString("HHmmss", CultureInfo.InvariantCulture);
        (await client.PostAsJsonAsync("/api/v1/workspaces", new { name = workspace })).EnsureSuccessStatusCode();
        (await client.PostAsJsonAsync($"/api/v1/workspaces/{workspace}/providers", new { name = "fake", kind = "openai", baseUrl = model.Address + "v1", apiKey = "bench" }))
            .EnsureSuccessStatusCode();
        foreach (var (name, tokens) in new[] { ("short", 10), ("long", 100) })
        {
            (await client.PostAsJsonAsync($"/api/v1/workspaces/{workspace}/workflows", new
            {
                name,
                steps = new[] { new { id = "ask", activity = new { uniqueIdentifier = "llm" }, input = new { model = new { provider = "fake", model = $"tokens-{tokens}" }, prompt = "Go." } } },
            })).EnsureSuccessStatusCode();
        }

        output.WriteLine($"{(settings.Database is null ? "SQLite" : "PostgreSQL")}; fake model: first token after {FirstToken.TotalMilliseconds:0} ms, then {TokensPerSecond:0} tokens/s");

        // Time to first token, one at a time: straight to the fake server, then through a run and its stream.
        using var direct = new HttpClient();
        await MeasureAsync(_ => DirectFirstTokenAsync(direct, model.Address), 5);
        var straight = await MeasureAsync(_ => DirectFirstTokenAsync(direct, model.Address), settings.Requests);
        var phases = new List<double[]>();
        await MeasureAsync(_ => RunFirstTokenAsync(client, workspace, model, []), 5);
        var through = await MeasureAsync(_ => RunFirstTokenAsync(client, workspace, model, phases), settings.Requests);
        output.WriteLine();
        output.WriteLine($"{"time to first token",-34} {"p50 ms",8} {"p99 ms",8}");
        output.WriteLine($"{"fake server, called directly",-34} {straight.P50,8:F1} {straight.P99,8:F1}");
        output.WriteLine($"{"run started, first SSE delta",-34} {through.P50,8:F1} {through.P99,8:F1}");
        output.WriteLine($"{"added by Cadre",-34} {through.P50 - straight.P50,8:F1} {through.P99 - straight.P99,8:F1}   (target under 5 and 20)");
        figures.Add("time to first token through a run and its SSE stream, p50", through.P50, "ms", "the fake provider called directly, p50", straight.P50);
        figures.Add("time to first token through a run and its SSE stream, p99", through.P99, "ms", "the fake provider called directly, p99", straight.P99);
        figures.Add("added by Cadre, p50", through.P50 - straight.P50, "ms");
        output.WriteLine();
        output.WriteLine("where the added time goes (p50 ms each, from the run's event times and the fake server's arrival times; same clock):");
        string[] names = ["start request, to its commit", "commit, to the attempt's start", "attempt start, to the model request", "model's first token, to the delta's commit", "delta's commit, to the SSE client"];
        for (var i = 0; i < names.Length; i++)
        {
            var sorted = phases.Select(p => p[i]).Order().ToList();
            output.WriteLine($"  {names[i],-44} {sorted[(sorted.Count - 1) / 2],6:F2}");
        }

        // Streaming at scale.
        var perRun = Math.Max(1, subscribers / streamingRuns);
        var clock = Stopwatch.StartNew();
        var runs = await Task.WhenAll(Enumerable.Range(0, streamingRuns).Select(async _ =>
        {
            var started = await (await client.PostAsJsonAsync($"/api/v1/workspaces/{workspace}/workflows/long/runs", new { })).EnsureSuccessStatusCode()
                .Content.ReadFromJsonAsync<JsonObject>();
            return (string)started!["id"]!;
        }));
        var received = await Task.WhenAll(runs.SelectMany(run => Enumerable.Range(0, perRun).Select(_ => ReadStreamAsync(client, workspace, run))));
        var expected = FakeStreamingModel.Text(100);
        var complete = received.Count(text => text == expected);
        output.WriteLine();
        output.WriteLine($"{streamingRuns} runs streaming at once (CADRE_ENGINE_WORKERS={streamingRuns}), {perRun} SSE subscribers each ({streamingRuns * perRun} in all): " +
            $"{complete} of {received.Length} subscribers received every token, in {clock.Elapsed.TotalSeconds:F1} s (each stream lasts about {FirstToken.TotalSeconds + (100 / TokensPerSecond):F1} s)");
        figures.Add($"{streamingRuns} runs streaming at once: subscribers that received every token", complete, "subscribers", "subscribers", received.Length);
        figures.Add($"{streamingRuns} runs streaming at once: time until every stream ended", clock.Elapsed.TotalSeconds, "s", "one stream's own length", FirstToken.TotalSeconds + (100 / TokensPerSecond));
        return figures;
    }

    private static async Task<double> DirectFirstTokenAsync(HttpClient direct, Uri address)
    {
        var clock = Stopwatch.StartNew();
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(address, "v1/chat/completions"))
        {
            Content = JsonContent.Create(new { model = "tokens-10", stream = true, messages = new[] { new { role = "user", content = "Go." } } }),
        };
        using var response = await direct.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
        while (await reader.ReadLineAsync() is { } line)
        {
            if (line.Contains("\"content\"", StringComparison.Ordinal))
            {
                var elapsed = clock.Elapsed.TotalMilliseconds;
                await reader.ReadToEndAsync();
                return elapsed;
            }
        }

        throw new InvalidOperationException("The fake server sent no token.");
    }

    /// <summary>One run's time to first token at its SSE client; adds the run's phases (see the breakdown) to <paramref name="phases"/>.</summary>
    private static async Task<double> RunFirstTokenAsync(HttpClient client, string workspace, FakeStreamingModel model, List<double[]> phases)
    {
        var sentAt = DateTime.UtcNow;
        var clock = Stopwatch.StartNew();
        var started = await (await client.PostAsJsonAsync($"/api/v1/workspaces/{workspace}/workflows/short/runs", new { })).EnsureSuccessStatusCode()
            .Content.ReadFromJsonAsync<JsonObject>();
        using var response = await client.GetAsync($"/api/v1/workspaces/{workspace}/runs/{started!["id"]}/stream", HttpCompletionOption.ResponseHeadersRead);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
        while (await reader.ReadLineAsync() is { } line)
        {
            if (line == "event: message_delta")
            {
                var elapsed = clock.Elapsed.TotalMilliseconds;
                var receivedAt = DateTime.UtcNow;
                var modelCalledAt = model.LastRequestAt;
                await reader.ReadToEndAsync();
                var events = (await client.GetFromJsonAsync<JsonObject>($"/api/v1/workspaces/{workspace}/runs/{started["id"]}/events?limit=100"))!["results"]!.AsArray();
                DateTime At(Func<JsonNode, bool> match) => (DateTime)events.First(e => match(e!))!["createdAt"]!;
                var committed = At(e => (string)e["type"]! == "status");
                var attempt = At(e => (string)e["type"]! == "step" && (string)e["data"]!["status"]! == "started");
                var delta = At(e => (string)e["type"]! == "message_delta");
                phases.Add(
                [
                    (committed - sentAt).TotalMilliseconds,
                    (attempt - committed).TotalMilliseconds,
                    (modelCalledAt - attempt).TotalMilliseconds,
                    (delta - modelCalledAt - FirstToken).TotalMilliseconds,
                    (receivedAt - delta).TotalMilliseconds,
                ]);
                return elapsed;
            }
        }

        throw new InvalidOperationException($"Run {started["id"]} streamed no token.");
    }

    /// <summary>Follows a run's stream to its end; answers the text its deltas carried.</summary>
    private static async Task<string> ReadStreamAsync(HttpClient client, string workspace, string run)
    {
        using var response = await client.GetAsync($"/api/v1/workspaces/{workspace}/runs/{run}/stream", HttpCompletionOption.ResponseHeadersRead);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
        var text = new StringBuilder();
        var delta = false;
        while (await reader.ReadLineAsync() is { } line)
        {
            if (line.StartsWith("event: ", StringComparison.Ordinal))
            {
                delta = line == "event: message_delta";
            }
            else if (delta && line.StartsWith("data: ", StringComparison.Ordinal))
            {
                text.Append((string?)JsonNode.Parse(line[6..])!["text"]);
            }
        }

        return text.ToString();
    }

    private static async Task<(double P50, double P99)> MeasureAsync(Func<int, Task<double>> sample, int count)
    {
        var samples = new List<double>(count);
        for (var i = 0; i < count; i++)
        {
            samples.Add(await sample(i));
        }

        samples.Sort();
        return (samples[(int)(0.50 * (samples.Count - 1))], samples[(int)Math.Ceiling(0.99 * (samples.Count - 1))]);
    }
}

/// <summary>
/// An OpenAI-compatible chat server that streams <c>tokens-N</c> models' N words at a fixed pace
/// after a fixed wait: a stand-in for a real provider whose timing is known exactly.
/// </summary>
public sealed class FakeStreamingModel : IDisposable
{
    private readonly HttpListener _listener = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly TimeSpan _firstToken;
    private readonly TimeSpan _betweenTokens;

    public FakeStreamingModel(TimeSpan firstToken, double tokensPerSecond)
    {
        _firstToken = firstToken;
        _betweenTokens = TimeSpan.FromSeconds(1 / tokensPerSecond);
        Address = new Uri($"http://127.0.0.1:{BenchServer.FreePort()}/");
        _listener.Prefixes.Add(Address.ToString());
        _listener.Start();
        _ = Task.Run(AcceptAsync);
    }

    public Uri Address { get; }

    public static string Text(int tokens) => string.Join(' ', Enumerable.Range(1, tokens).Select(i => $"w{i}"));

    public void Dispose()
    {
        _stop.Cancel();
        _listener.Close();
        _stop.Dispose();
    }

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync();
            }
            catch (Exception ex) when (ex is HttpListenerException or ObjectDisposedException)
            {
                return;
            }

            LastRequestAt = DateTime.UtcNow;
            _ = Task.Run(() => AnswerAsync(context));
        }
    }

    /// <summary>When the latest request arrived (UTC), for the one-at-a-time breakdown.</summary>
    public DateTime LastRequestAt { get; private set; }

    private async Task AnswerAsync(HttpListenerContext context)
    {
        try
        {
            var body = await JsonNode.ParseAsync(context.Request.InputStream);
            var model = (string?)body?["model"] ?? "tokens-10";
            var tokens = int.TryParse(model.AsSpan("tokens-".Length), out var n) ? n : 10;
            var response = context.Response;
            response.ContentType = "text/event-stream";
            response.SendChunked = true;
            await Task.Delay(_firstToken);
            var words = Text(tokens).Split(' ');
            for (var i = 0; i < words.Length; i++)
            {
                if (i > 0)
                {
                    await Task.Delay(_betweenTokens);
                }

                await WriteAsync(response, new JsonObject
                {
                    ["id"] = "bench", ["object"] = "chat.completion.chunk", ["created"] = 0, ["model"] = model,
                    ["choices"] = new JsonArray(new JsonObject { ["index"] = 0, ["delta"] = new JsonObject { ["content"] = (i == 0 ? "" : " ") + words[i] } }),
                }.ToJsonString());
            }

            await WriteAsync(response, new JsonObject
            {
                ["id"] = "bench", ["object"] = "chat.completion.chunk", ["created"] = 0, ["model"] = model,
                ["choices"] = new JsonArray(new JsonObject { ["index"] = 0, ["delta"] = new JsonObject(), ["finish_reason"] = "stop" }),
            }.ToJsonString());
            await WriteAsync(response, new JsonObject
            {
                ["id"] = "bench", ["object"] = "chat.completion.chunk", ["created"] = 0, ["model"] = model, ["choices"] = new JsonArray(),
                ["usage"] = new JsonObject { ["prompt_tokens"] = 5, ["completion_tokens"] = tokens, ["total_tokens"] = 5 + tokens },
            }.ToJsonString());
            await WriteAsync(response, "[DONE]");
            response.Close();
        }
        catch (Exception ex) when (ex is HttpListenerException or IOException or ObjectDisposedException)
        {
            // The client went away.
        }
    }

    private static async Task WriteAsync(HttpListenerResponse response, string data)
    {
        var bytes = Encoding.UTF8.GetBytes($"data: {data}\n\n");
        await response.OutputStream.WriteAsync(bytes);
        await response.OutputStream.FlushAsync();
    }
}
