using System.ClientModel;
using System.ClientModel.Primitives;
using System.Net;
using System.Text.Json;
using Anthropic;
using Anthropic.Exceptions;
using Microsoft.Extensions.AI;
using OpenAI;

namespace Cadre.Server.Tests.Infrastructure;

/// <summary>The fake model server, read through the real OpenAI and Anthropic SDKs behind M.E.AI's <see cref="IChatClient"/>.</summary>
public sealed class FakeModelServerTests
{
    private static readonly TimeSpan WaitLimit = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task GetStreamingResponseAsync_OpenAIText_YieldsWordsInOrderAndUsage()
    {
        await using var server = await FakeModelServer.StartAsync();
        server.Enqueue(new FakeReply { Text = "The quick brown fox", InputTokens = 42, OutputTokens = 4, CachedInputTokens = 30 });
        var client = OpenAIChatClient(server);

        var updates = await CollectAsync(client.GetStreamingResponseAsync("Say something", new ChatOptions { MaxOutputTokens = 50 }));

        updates.Select(u => u.Text).Where(t => t.Length > 0).ShouldBe(["The ", "quick ", "brown ", "fox"]);
        var usage = updates.SelectMany(u => u.Contents).OfType<UsageContent>().ShouldHaveSingleItem().Details;
        usage.InputTokenCount.ShouldBe(42);
        usage.CachedInputTokenCount.ShouldBe(30);
        usage.OutputTokenCount.ShouldBe(4);
        usage.TotalTokenCount.ShouldBe(46);
        var request = server.Requests.ShouldHaveSingleItem();
        request.Api.ShouldBe("openai");
        request.Path.ShouldBe("/v1/chat/completions");
        request.Stream.ShouldBeTrue();
        request.Model.ShouldBe("gpt-fake");
        // The OpenAI SDK itself asks for usage on every streamed call; M.E.AI needs no option for it.
        request.Body["stream_options"]!["include_usage"]!.GetValue<bool>().ShouldBeTrue();
        request.Headers["Authorization"].ShouldBe("Bearer test-key");
        server.Completed.ShouldBe(1);
    }

    [Fact]
    public async Task GetResponseAsync_OpenAIToolCall_ReturnsFunctionCallWithArguments()
    {
        await using var server = await FakeModelServer.StartAsync();
        server.Enqueue(new FakeReply { ToolCalls = [new FakeToolCall("call_1", "get_weather", """{"city":"Paris","days":3}""")] });
        var client = OpenAIChatClient(server);

        var response = await client.GetResponseAsync("Weather?", WeatherTool());

        var call = response.Messages.SelectMany(m => m.Contents).OfType<FunctionCallContent>().ShouldHaveSingleItem();
        call.CallId.ShouldBe("call_1");
        call.Name.ShouldBe("get_weather");
        ArgumentText(call, "city").ShouldBe("Paris");
        ArgumentText(call, "days").ShouldBe("3");
        response.FinishReason.ShouldBe(ChatFinishReason.ToolCalls);
        response.Usage!.InputTokenCount.ShouldBe(10);
        response.Usage.OutputTokenCount.ShouldBe(1);
        var request = server.Requests.ShouldHaveSingleItem();
        request.Stream.ShouldBeFalse();
        request.Body["tools"]![0]!["function"]!["name"]!.GetValue<string>().ShouldBe("get_weather");
    }

    [Fact]
    public async Task GetStreamingResponseAsync_OpenAIToolCall_JoinsArgumentFragments()
    {
        await using var server = await FakeModelServer.StartAsync();
        server.Enqueue(new FakeReply
        {
            Text = "Let me look.",
            ToolCalls = [new FakeToolCall("call_a", "get_weather", """{"city":"Oslo"}"""), new FakeToolCall("call_b", "get_weather", """{"city":"Rome"}""")],
        });
        var client = OpenAIChatClient(server);

        var updates = await CollectAsync(client.GetStreamingResponseAsync("Weather in two cities?", WeatherTool()));

        string.Concat(updates.Select(u => u.Text)).ShouldBe("Let me look.");
        var calls = updates.SelectMany(u => u.Contents).OfType<FunctionCallContent>().ToList();
        calls.Select(c => c.CallId).ShouldBe(["call_a", "call_b"]);
        calls.ShouldAllBe(c => c.Name == "get_weather");
        calls.Select(c => ArgumentText(c, "city")).ShouldBe(["Oslo", "Rome"]);
        updates.Last(u => u.FinishReason != null).FinishReason.ShouldBe(ChatFinishReason.ToolCalls);
    }

    [Fact]
    public async Task GetStreamingResponseAsync_AnthropicText_YieldsTextAndUsage()
    {
        await using var server = await FakeModelServer.StartAsync();
        server.Enqueue(new FakeReply { Text = "Bonjour tout le monde", InputTokens = 120, OutputTokens = 7, CachedInputTokens = 100 });
        var client = AnthropicChatClient(server);

        var updates = await CollectAsync(client.GetStreamingResponseAsync(
            [new ChatMessage(ChatRole.System, "You are terse."), new ChatMessage(ChatRole.User, "Greet")]));

        updates.Select(u => u.Text).Where(t => t.Length > 0).ShouldBe(["Bonjour ", "tout ", "le ", "monde"]);
        var usage = updates.SelectMany(u => u.Contents).OfType<UsageContent>().ShouldHaveSingleItem().Details;
        usage.InputTokenCount.ShouldBe(120);
        usage.CachedInputTokenCount.ShouldBe(100);
        usage.OutputTokenCount.ShouldBe(7);
        usage.TotalTokenCount.ShouldBe(127);
        var request = server.Requests.ShouldHaveSingleItem();
        request.Api.ShouldBe("anthropic");
        request.Path.ShouldBe("/v1/messages");
        request.Stream.ShouldBeTrue();
        request.Model.ShouldBe("claude-fake");
        request.SystemPrompt.ShouldBe("You are terse.");
        request.LastUserText.ShouldBe("Greet");
        // The Anthropic .NET SDK sends its API key as a bearer token, not in x-api-key.
        request.Headers["Authorization"].ShouldBe("Bearer test-key");
        request.Headers.ContainsKey("anthropic-version").ShouldBeTrue();
        server.Completed.ShouldBe(1);
    }

    [Fact]
    public async Task GetStreamingResponseAsync_AnthropicToolCall_JoinsArgumentFragments()
    {
        await using var server = await FakeModelServer.StartAsync();
        server.Enqueue(new FakeReply { Text = "Checking.", ToolCalls = [new FakeToolCall("toolu_1", "get_weather", """{"city":"Lima","days":2}""")] });
        var client = AnthropicChatClient(server);

        var updates = await CollectAsync(client.GetStreamingResponseAsync("Weather?", WeatherTool()));

        string.Concat(updates.Select(u => u.Text)).ShouldBe("Checking.");
        var call = updates.SelectMany(u => u.Contents).OfType<FunctionCallContent>().ShouldHaveSingleItem();
        call.CallId.ShouldBe("toolu_1");
        call.Name.ShouldBe("get_weather");
        ArgumentText(call, "city").ShouldBe("Lima");
        ArgumentText(call, "days").ShouldBe("2");
        updates.Last(u => u.FinishReason != null).FinishReason.ShouldBe(ChatFinishReason.ToolCalls);
    }

    [Fact]
    public async Task GetResponseAsync_AnthropicToolCall_ReturnsFunctionCallAndUsage()
    {
        await using var server = await FakeModelServer.StartAsync();
        server.Enqueue(new FakeReply { ToolCalls = [new FakeToolCall("toolu_2", "get_weather", """{"city":"Kyiv"}""")], InputTokens = 40, CachedInputTokens = 25, OutputTokens = 9 });
        var client = AnthropicChatClient(server);

        var response = await client.GetResponseAsync("Weather?", WeatherTool());

        var call = response.Messages.SelectMany(m => m.Contents).OfType<FunctionCallContent>().ShouldHaveSingleItem();
        call.CallId.ShouldBe("toolu_2");
        ArgumentText(call, "city").ShouldBe("Kyiv");
        response.FinishReason.ShouldBe(ChatFinishReason.ToolCalls);
        response.Usage!.InputTokenCount.ShouldBe(40);
        response.Usage.CachedInputTokenCount.ShouldBe(25);
        response.Usage.OutputTokenCount.ShouldBe(9);
        server.Requests.ShouldHaveSingleItem().Stream.ShouldBeFalse();
    }

    [Fact]
    public async Task GetResponseAsync_EmptyQueue_EchoesLastUserMessageOnBothApis()
    {
        await using var server = await FakeModelServer.StartAsync();
        List<ChatMessage> conversation =
        [
            new(ChatRole.System, "Be kind."),
            new(ChatRole.User, "first question"),
            new(ChatRole.Assistant, "first answer"),
            new(ChatRole.User, "second question"),
        ];

        var openAI = await OpenAIChatClient(server).GetResponseAsync(conversation);
        var anthropic = await AnthropicChatClient(server).GetResponseAsync(conversation);

        openAI.Text.ShouldBe("echo: second question");
        anthropic.Text.ShouldBe("echo: second question");
        server.Requests.Select(r => r.SystemPrompt).ShouldBe(["Be kind.", "Be kind."]);
        server.Completed.ShouldBe(2);
    }

    [Fact]
    public async Task Enqueue_TwoReplies_ServedInOrderAcrossApis()
    {
        await using var server = await FakeModelServer.StartAsync();
        server.Enqueue(new FakeReply { Text = "first" });
        server.Enqueue(new FakeReply { Text = "second" });

        var anthropic = await AnthropicChatClient(server).GetResponseAsync("a");
        var openAI = await OpenAIChatClient(server).GetResponseAsync("b");

        anthropic.Text.ShouldBe("first");
        openAI.Text.ShouldBe("second");
        server.Requests.Select(r => r.Api).ShouldBe(["anthropic", "openai"]);
    }

    [Fact]
    public async Task GetResponseAsync_OpenAIRateLimitedWithRetriesOff_ThrowsWithRetryAfterAfterOneRequest()
    {
        await using var server = await FakeModelServer.StartAsync();
        server.Enqueue(new FakeReply { Status = 429, RetryAfter = TimeSpan.FromSeconds(7), Text = "Slow down." });
        var client = OpenAIChatClient(server);

        var error = await Should.ThrowAsync<ClientResultException>(() => client.GetResponseAsync("Hi"));

        error.Status.ShouldBe(429);
        error.Message.ShouldContain("Slow down.");
        error.GetRawResponse()!.Headers.TryGetValue("Retry-After", out var retryAfter).ShouldBeTrue();
        retryAfter.ShouldBe("7");
        server.Requests.Count.ShouldBe(1);
        server.Completed.ShouldBe(0);
    }

    [Fact]
    public async Task GetStreamingResponseAsync_AnthropicRateLimitedWithRetriesOff_ThrowsAfterOneRequest()
    {
        await using var server = await FakeModelServer.StartAsync();
        server.Enqueue(new FakeReply { Status = 429, RetryAfter = TimeSpan.FromSeconds(7) });
        var client = AnthropicChatClient(server);

        var error = await Should.ThrowAsync<AnthropicRateLimitException>(async () => await CollectAsync(client.GetStreamingResponseAsync("Hi")));

        error.StatusCode.ShouldBe(HttpStatusCode.TooManyRequests);
        error.ResponseBody.ShouldContain("rate_limit_error");
        error.RequestID.ShouldStartWith("req_fake");
        server.Requests.Count.ShouldBe(1);
    }

    [Fact]
    public async Task GetStreamingResponseAsync_OpenAICancelledMidway_ServerSeesClientDisconnect()
    {
        await using var server = await FakeModelServer.StartAsync();
        server.Enqueue(new FakeReply { Text = Words(200), TokensPerSecond = 20 });
        var client = OpenAIChatClient(server);

        await ReadOneUpdateThenCancelAsync(client);

        await server.WaitForClientDisconnectAsync(WaitLimit);
        server.ClientDisconnects.ShouldBe(1);
        server.Completed.ShouldBe(0);
    }

    [Fact]
    public async Task GetStreamingResponseAsync_AnthropicCancelledMidway_ServerSeesClientDisconnect()
    {
        await using var server = await FakeModelServer.StartAsync();
        server.Enqueue(new FakeReply { Text = Words(200), TokensPerSecond = 20 });
        var client = AnthropicChatClient(server);

        await ReadOneUpdateThenCancelAsync(client);

        await server.WaitForClientDisconnectAsync(WaitLimit);
        server.ClientDisconnects.ShouldBe(1);
        server.Completed.ShouldBe(0);
    }

    [Fact]
    public async Task GetResponseAsync_ClientTimeoutBeforeFirstToken_ThrowsAndServerSeesClientDisconnect()
    {
        await using var server = await FakeModelServer.StartAsync();
        server.Enqueue(new FakeReply { Text = "too late", TimeToFirstToken = TimeSpan.FromSeconds(30) });
        var client = OpenAIChatClient(server);
        // A per-call timeout is a cancellation token: neither SDK has a per-call timeout setting that M.E.AI passes on.
        using var timeout = new CancellationTokenSource();
        var call = client.GetResponseAsync("Hi", cancellationToken: timeout.Token);
        // The clock starts once the server holds the request: on a busy machine a 50 ms limit from the call could
        // end before the request was sent, and there would be no request for the server to see abandoned.
        await Eventually.HoldsAsync(() => server.Requests.Count == 1, "the server received the request");
        timeout.CancelAfter(TimeSpan.FromMilliseconds(50));

        await Should.ThrowAsync<OperationCanceledException>(() => call);

        await server.WaitForClientDisconnectAsync(WaitLimit);
        server.Completed.ShouldBe(0);
    }

    [Fact]
    public async Task GetStreamingResponseAsync_OpenAIDisconnectAfterChunks_StreamThrows()
    {
        await using var server = await FakeModelServer.StartAsync();
        server.Enqueue(new FakeReply { Text = "one two three four five", DisconnectAfterChunks = 2 });
        var client = OpenAIChatClient(server);
        var texts = new List<string>();

        // Neither SDK wraps a broken stream: the raw HttpIOException comes through M.E.AI.
        await Should.ThrowAsync<HttpIOException>(async () =>
        {
            await foreach (var update in client.GetStreamingResponseAsync("Count"))
            {
                texts.Add(update.Text);
            }
        });

        string.Concat(texts).ShouldBe("one two ");
        server.Completed.ShouldBe(0);
        server.ClientDisconnects.ShouldBe(0);
    }

    [Fact]
    public async Task GetStreamingResponseAsync_AnthropicDisconnectAfterChunks_StreamThrows()
    {
        await using var server = await FakeModelServer.StartAsync();
        server.Enqueue(new FakeReply { Text = "one two three four five", DisconnectAfterChunks = 2 });
        var client = AnthropicChatClient(server);
        var texts = new List<string>();

        // Neither SDK wraps a broken stream: the raw HttpIOException comes through M.E.AI.
        await Should.ThrowAsync<HttpIOException>(async () =>
        {
            await foreach (var update in client.GetStreamingResponseAsync("Count"))
            {
                texts.Add(update.Text);
            }
        });

        string.Concat(texts).ShouldBe("one two ");
        server.Completed.ShouldBe(0);
        server.ClientDisconnects.ShouldBe(0);
    }

    [Fact]
    public async Task GetResponseAsync_OpenAIEndpointWithoutV1_IsServedOnChatCompletions()
    {
        await using var server = await FakeModelServer.StartAsync();
        server.Enqueue(new FakeReply { Text = "hello" });
        var client = new OpenAI.Chat.ChatClient(
            "gpt-fake",
            new ApiKeyCredential("test-key"),
            new OpenAIClientOptions { Endpoint = server.Address, RetryPolicy = new ClientRetryPolicy(0) })
            .AsIChatClient();

        var response = await client.GetResponseAsync("Hi");

        response.Text.ShouldBe("hello");
        server.Requests.ShouldHaveSingleItem().Path.ShouldBe("/chat/completions");
    }

    [Fact]
    public async Task PostAsync_UnknownPath_Returns404WithJsonError()
    {
        await using var server = await FakeModelServer.StartAsync();
        using var http = new HttpClient { BaseAddress = server.Address };

        using var response = await http.PostAsync(new Uri("v1/completions", UriKind.Relative), new StringContent("{}"));

        response.StatusCode.ShouldBe(HttpStatusCode.NotFound);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        body.RootElement.GetProperty("error").GetProperty("message").GetString()!.ShouldContain("/v1/completions");
        server.Requests.ShouldBeEmpty();
    }

    private static IChatClient OpenAIChatClient(FakeModelServer server) =>
        new OpenAI.Chat.ChatClient(
            "gpt-fake",
            new ApiKeyCredential("test-key"),
            new OpenAIClientOptions { Endpoint = server.OpenAIEndpoint, RetryPolicy = new ClientRetryPolicy(0) })
        .AsIChatClient();

    private static IChatClient AnthropicChatClient(FakeModelServer server) =>
        new AnthropicClient(new Anthropic.Core.ClientOptions
        {
            BaseUrl = server.Address.ToString().TrimEnd('/'),
            ApiKey = "test-key",
            MaxRetries = 0,
        })
        .AsIChatClient("claude-fake", 1024);

    private static ChatOptions WeatherTool() => new()
    {
        Tools = [AIFunctionFactory.Create((string city, int days) => $"Sunny in {city} for {days} days", "get_weather", "Gets the weather.")],
    };

    private static string? ArgumentText(FunctionCallContent call, string name) => call.Arguments![name]?.ToString();

    private static string Words(int count) => string.Join(' ', Enumerable.Range(1, count).Select(i => $"w{i}"));

    private static async Task<List<ChatResponseUpdate>> CollectAsync(IAsyncEnumerable<ChatResponseUpdate> updates)
    {
        var list = new List<ChatResponseUpdate>();
        await foreach (var update in updates)
        {
            list.Add(update);
        }

        return list;
    }

    /// <remarks>
    /// The server sees the disconnect about 2 s later, not at once: cancelled between reads, SocketsHttpHandler drains
    /// the rest of the response (up to ResponseDrainTimeout, 2 s, or MaxResponseDrainSize, 1 MB) to reuse the
    /// connection before it closes it. The replies here last 10 s, so the drain gives up and the connection closes.
    /// </remarks>
    private static async Task ReadOneUpdateThenCancelAsync(IChatClient client)
    {
        using var cancellation = new CancellationTokenSource();
        var read = 0;
        await Should.ThrowAsync<OperationCanceledException>(async () =>
        {
            await foreach (var update in client.GetStreamingResponseAsync("Talk a lot", cancellationToken: cancellation.Token))
            {
                read++;
                await cancellation.CancelAsync();
            }
        });
        // The Anthropic adapter still hands out the events already in its buffer after the cancel before it throws.
        read.ShouldBeLessThan(10);
    }
}
