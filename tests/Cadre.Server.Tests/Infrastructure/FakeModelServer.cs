using System.Collections.Concurrent;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Net.Sockets;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging;

namespace Cadre.Server.Tests.Infrastructure;

/// <summary>
/// A fake LLM provider on 127.0.0.1 that speaks the OpenAI Chat Completions and the Anthropic Messages wire formats,
/// streamed and not, so the real SDK clients can be tested over real HTTP.
/// </summary>
/// <remarks>
/// <para>Routes: <c>POST /v1/chat/completions</c> and <c>POST /chat/completions</c> (OpenAI; point the OpenAI SDK's
/// <c>Endpoint</c> at <see cref="OpenAIEndpoint"/>) and <c>POST /v1/messages</c> (Anthropic; point the Anthropic SDK's
/// <c>BaseUrl</c> at <see cref="Address"/> without its trailing slash). Anything else is a 404 with a JSON error.</para>
/// <para>Replies queued with <see cref="Enqueue"/> are served in order, whichever API asks. With an empty queue the
/// reply echoes the last user message: <c>"echo: " + text</c>.</para>
/// <para>Streaming is chosen by the request body's <c>"stream": true</c>, as the real services do.</para>
/// </remarks>
public sealed class FakeModelServer : IAsyncDisposable
{
    private const string OpenAIApi = "openai";
    private const string AnthropicApi = "anthropic";

    private readonly WebApplication _app;
    private readonly ConcurrentQueue<FakeReply> _replies = new();
    private readonly List<FakeModelRequest> _requests = [];
    private readonly Lock _requestsLock = new();
    private readonly TaskCompletionSource _clientDisconnected = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _completed;
    private int _clientDisconnects;
    private int _lastId;

    private FakeModelServer(WebApplication app) => _app = app;

    /// <summary>The server's root, such as <c>http://127.0.0.1:PORT/</c>.</summary>
    public Uri Address { get; private set; } = null!;

    /// <summary>The OpenAI SDK's <c>Endpoint</c>: the SDK posts to <c>{endpoint}/chat/completions</c>.</summary>
    public Uri OpenAIEndpoint => new(Address, "v1/");

    /// <summary>A snapshot of the model requests received so far (routed ones with a JSON body), in arrival order.</summary>
    public IReadOnlyList<FakeModelRequest> Requests
    {
        get
        {
            lock (_requestsLock)
            {
                return [.. _requests];
            }
        }
    }

    /// <summary>
    /// Successful answers sent in full. It is counted just before the last bytes go out, so a client that has read
    /// its whole answer always sees it counted. Error replies (<see cref="FakeReply.Status"/>) are not counted.
    /// </summary>
    public int Completed => Volatile.Read(ref _completed);

    /// <summary>
    /// Answers whose client went away before their end: a streamed answer the client stopped reading, or any answer
    /// whose client gave up while the server waited <see cref="FakeReply.TimeToFirstToken"/>. Connections the server
    /// cut itself (<see cref="FakeReply.DisconnectAfterChunks"/>) are not counted.
    /// </summary>
    public int ClientDisconnects => Volatile.Read(ref _clientDisconnects);

    public static async Task<FakeModelServer> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        // Inline scheduling runs Kestrel's socket send inside each flush, so a flushed chunk is in the kernel when the
        // flush returns: chunk pacing is what the client sees, and a cut (DisconnectAfterChunks) loses no chunk.
        builder.WebHost.UseSockets(options => options.UnsafePreferInlineScheduling = true);
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var server = new FakeModelServer(app);
        app.Run(server.HandleAsync);
        await app.StartAsync();
        server.Address = new Uri(app.Urls.First());
        return server;
    }

    /// <summary>Queues a reply for the next request, whichever API it comes through.</summary>
    public void Enqueue(FakeReply reply)
    {
        ArgumentNullException.ThrowIfNull(reply);
        _replies.Enqueue(reply);
    }

    /// <summary>Completes once <see cref="ClientDisconnects"/> is above zero; throws <see cref="TimeoutException"/> after <paramref name="timeout"/>.</summary>
    public Task WaitForClientDisconnectAsync(TimeSpan timeout) => _clientDisconnected.Task.WaitAsync(timeout);

    public async ValueTask DisposeAsync() => await _app.DisposeAsync();

    private async Task HandleAsync(HttpContext context)
    {
        var api = ApiOf(context.Request);
        if (api is null)
        {
            var notFound = OpenAIErrorBody(StatusCodes.Status404NotFound, $"No fake model route for {context.Request.Method} {context.Request.Path}.");
            await WriteJsonAsync(context.Response, StatusCodes.Status404NotFound, notFound, context.RequestAborted);
            return;
        }

        JsonObject body;
        try
        {
            body = await JsonNode.ParseAsync(context.Request.Body, cancellationToken: context.RequestAborted) as JsonObject
                ?? throw new JsonException("The request body is not a JSON object.");
        }
        catch (JsonException ex)
        {
            var status = StatusCodes.Status400BadRequest;
            var error = api == OpenAIApi ? OpenAIErrorBody(status, ex.Message) : AnthropicErrorBody(status, ex.Message);
            await WriteJsonAsync(context.Response, status, error, context.RequestAborted);
            return;
        }

        // Copied: Kestrel reuses the header collection once the request ends.
        var headers = context.Request.Headers.ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase);
        var stream = body["stream"]?.GetValueKind() == JsonValueKind.True;
        var request = new FakeModelRequest(api, context.Request.Path.Value ?? "", headers, body, stream);
        lock (_requestsLock)
        {
            _requests.Add(request);
        }

        var reply = _replies.TryDequeue(out var queued) ? queued : new FakeReply { Text = "echo: " + request.LastUserText };
        await AnswerAsync(context, request, reply);
    }

    private static string? ApiOf(HttpRequest request) =>
        !HttpMethods.IsPost(request.Method) ? null
        : request.Path.Value is "/v1/chat/completions" or "/chat/completions" ? OpenAIApi
        : request.Path.Value is "/v1/messages" ? AnthropicApi
        : null;

    private async Task AnswerAsync(HttpContext context, FakeModelRequest request, FakeReply reply)
    {
        // Stopping the server cancels paced answers too, so disposing never waits for Kestrel's shutdown timeout.
        var stopping = _app.Lifetime.ApplicationStopping;
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, stopping);
        var exchange = new Exchange(this, context, request, reply, Interlocked.Increment(ref _lastId), linked.Token);
        // Both services name each response; the SDKs surface it on errors (Anthropic's RequestID, for one).
        context.Response.Headers[request.Api == OpenAIApi ? "x-request-id" : "request-id"] = $"req_fake{exchange.Id:D6}";
        try
        {
            if (reply.Status is null && request.Stream)
            {
                // Like the real services, a stream's headers come at once and its first chunk after the wait, so a
                // client's time-to-first-token limit is tested on reading the stream, not on sending the request.
                await exchange.StartEventStreamAsync();
            }

            if (reply.TimeToFirstToken > TimeSpan.Zero)
            {
                await Task.Delay(reply.TimeToFirstToken, exchange.Cancellation);
            }

            if (reply.Status is { } status)
            {
                await WriteErrorAsync(exchange, status);
            }
            else if (request.Stream)
            {
                await (request.Api == OpenAIApi ? StreamOpenAIAsync(exchange) : StreamAnthropicAsync(exchange));
            }
            else if (reply.DisconnectAfterChunks is not null)
            {
                // A non-streamed answer has no chunks: the connection is cut before the body.
                exchange.AbortByServer();
            }
            else
            {
                var answer = request.Api == OpenAIApi ? OpenAICompletion(exchange) : AnthropicMessage(exchange);
                await exchange.WriteLastAsync(() => WriteJsonAsync(context.Response, StatusCodes.Status200OK, answer, exchange.Cancellation));
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException)
        {
            // A client going away is an outcome to record, not a failure of the server; so is a cut or a shutdown.
            if (!exchange.AbortedByServer && !stopping.IsCancellationRequested && context.RequestAborted.IsCancellationRequested)
            {
                Interlocked.Increment(ref _clientDisconnects);
                _clientDisconnected.TrySetResult();
            }
        }
    }

    private static async Task WriteErrorAsync(Exchange exchange, int status)
    {
        var response = exchange.Context.Response;
        if (exchange.Reply.RetryAfter is { } retryAfter)
        {
            // Retry-After in whole seconds, the form both services send (Anthropic's SDK also reads retry-after-ms).
            response.Headers.RetryAfter = Math.Ceiling(retryAfter.TotalSeconds).ToString(CultureInfo.InvariantCulture);
        }

        var message = exchange.Reply.Text ?? $"Fake model error {status}.";
        var body = exchange.Request.Api == OpenAIApi ? OpenAIErrorBody(status, message) : AnthropicErrorBody(status, message);
        await WriteJsonAsync(response, status, body, exchange.Cancellation);
    }

    private static async Task WriteJsonAsync(HttpResponse response, int status, JsonObject body, CancellationToken cancellationToken)
    {
        response.StatusCode = status;
        response.ContentType = "application/json";
        await response.WriteAsync(body.ToJsonString(), cancellationToken);
    }

    // ---- OpenAI Chat Completions -------------------------------------------------------------------------------

    private static async Task StreamOpenAIAsync(Exchange exchange)
    {
        var reply = exchange.Reply;
        var words = SplitWords(reply.Text);
        var calls = reply.ToolCalls ?? [];

        await exchange.WriteAsync(null, OpenAIChunk(exchange, new JsonObject { ["role"] = "assistant", ["content"] = words.Count > 0 ? "" : null }, null));
        exchange.CutIfDue();
        for (var i = 0; i < words.Count; i++)
        {
            if (i > 0)
            {
                await exchange.PaceAsync();
            }

            await exchange.WriteContentAsync(null, OpenAIChunk(exchange, new JsonObject { ["content"] = words[i] }, null));
        }

        for (var index = 0; index < calls.Count; index++)
        {
            // A call's first delta carries its id and name; later deltas carry argument fragments and only the
            // index, which is how clients know which call a fragment belongs to.
            var call = calls[index];
            var opening = new JsonObject
            {
                ["index"] = index,
                ["id"] = call.Id,
                ["type"] = "function",
                ["function"] = new JsonObject { ["name"] = call.Name, ["arguments"] = "" },
            };
            await exchange.WriteAsync(null, OpenAIChunk(exchange, new JsonObject { ["tool_calls"] = new JsonArray(opening) }, null));
            foreach (var piece in SplitInTwo(call.ArgumentsJson))
            {
                var fragment = new JsonObject { ["index"] = index, ["function"] = new JsonObject { ["arguments"] = piece } };
                await exchange.WriteContentAsync(null, OpenAIChunk(exchange, new JsonObject { ["tool_calls"] = new JsonArray(fragment) }, null));
            }
        }

        await exchange.WriteAsync(null, OpenAIChunk(exchange, [], calls.Count > 0 ? "tool_calls" : "stop"));
        if (IncludeUsage(exchange.Request))
        {
            // Usage comes alone in a last chunk whose choices are empty, only when asked for with stream_options.
            var usageChunk = OpenAIChunkShell(exchange);
            usageChunk["choices"] = new JsonArray();
            usageChunk["usage"] = OpenAIUsage(reply);
            await exchange.WriteAsync(null, usageChunk);
        }

        await exchange.WriteLastAsync(() => exchange.WriteRawAsync("data: [DONE]\n\n"));
    }

    private static bool IncludeUsage(FakeModelRequest request) =>
        request.Body["stream_options"]?["include_usage"]?.GetValueKind() == JsonValueKind.True;

    private static JsonObject OpenAIChunkShell(Exchange exchange) => new()
    {
        ["id"] = $"chatcmpl-fake{exchange.Id}",
        ["object"] = "chat.completion.chunk",
        ["created"] = exchange.Created,
        ["model"] = exchange.Request.Model ?? "fake-model",
    };

    private static JsonObject OpenAIChunk(Exchange exchange, JsonObject delta, string? finishReason)
    {
        var chunk = OpenAIChunkShell(exchange);
        chunk["choices"] = new JsonArray(new JsonObject
        {
            ["index"] = 0,
            ["delta"] = delta,
            ["logprobs"] = null,
            ["finish_reason"] = finishReason,
        });
        if (IncludeUsage(exchange.Request))
        {
            // With include_usage every chunk carries "usage": null until the last one.
            chunk["usage"] = null;
        }

        return chunk;
    }

    private static JsonObject OpenAICompletion(Exchange exchange)
    {
        var reply = exchange.Reply;
        var message = new JsonObject
        {
            ["role"] = "assistant",
            ["content"] = string.IsNullOrEmpty(reply.Text) ? null : reply.Text,
            ["refusal"] = null,
        };
        if (reply.ToolCalls is { Count: > 0 } calls)
        {
            // Arguments are a JSON document inside a string, not a nested object.
            message["tool_calls"] = new JsonArray([.. calls.Select(call => new JsonObject
            {
                ["id"] = call.Id,
                ["type"] = "function",
                ["function"] = new JsonObject { ["name"] = call.Name, ["arguments"] = call.ArgumentsJson },
            })]);
        }

        return new JsonObject
        {
            ["id"] = $"chatcmpl-fake{exchange.Id}",
            ["object"] = "chat.completion",
            ["created"] = exchange.Created,
            ["model"] = exchange.Request.Model ?? "fake-model",
            ["choices"] = new JsonArray(new JsonObject
            {
                ["index"] = 0,
                ["message"] = message,
                ["logprobs"] = null,
                ["finish_reason"] = reply.ToolCalls is { Count: > 0 } ? "tool_calls" : "stop",
            }),
            ["usage"] = OpenAIUsage(reply),
        };
    }

    private static JsonObject OpenAIUsage(FakeReply reply) => new()
    {
        // prompt_tokens counts cached tokens too; cached_tokens says how many of them were cached.
        ["prompt_tokens"] = reply.InputTokens,
        ["completion_tokens"] = reply.OutputTokens,
        ["total_tokens"] = reply.InputTokens + reply.OutputTokens,
        ["prompt_tokens_details"] = new JsonObject { ["cached_tokens"] = reply.CachedInputTokens, ["audio_tokens"] = 0 },
        ["completion_tokens_details"] = new JsonObject { ["reasoning_tokens"] = 0, ["audio_tokens"] = 0 },
    };

    private static JsonObject OpenAIErrorBody(int status, string message)
    {
        var (type, code) = status switch
        {
            StatusCodes.Status429TooManyRequests => ("requests", "rate_limit_exceeded"),
            StatusCodes.Status401Unauthorized => ("invalid_request_error", "invalid_api_key"),
            StatusCodes.Status404NotFound => ("invalid_request_error", "not_found"),
            >= 500 => ("server_error", null),
            _ => ("invalid_request_error", (string?)null),
        };
        return new JsonObject
        {
            ["error"] = new JsonObject { ["message"] = message, ["type"] = type, ["param"] = null, ["code"] = code },
        };
    }

    // ---- Anthropic Messages -----------------------------------------------------------------------------------

    private static async Task StreamAnthropicAsync(Exchange exchange)
    {
        var reply = exchange.Reply;
        var words = SplitWords(reply.Text);
        var calls = reply.ToolCalls ?? [];

        // message_start carries the input usage; output_tokens there is a placeholder (the real service sends 1 too).
        var start = AnthropicMessageShell(exchange, [], stopReason: null, AnthropicUsage(reply, outputTokens: 1));
        await exchange.WriteAsync("message_start", new JsonObject { ["type"] = "message_start", ["message"] = start });
        // The service sends pings at any point; clients must skip them.
        await exchange.WriteAsync("ping", new JsonObject { ["type"] = "ping" });
        exchange.CutIfDue();

        var index = 0;
        if (words.Count > 0)
        {
            await exchange.WriteAsync("content_block_start", BlockStart(index, new JsonObject { ["type"] = "text", ["text"] = "" }));
            for (var i = 0; i < words.Count; i++)
            {
                if (i > 0)
                {
                    await exchange.PaceAsync();
                }

                await exchange.WriteContentAsync("content_block_delta", BlockDelta(index, new JsonObject { ["type"] = "text_delta", ["text"] = words[i] }));
            }

            await exchange.WriteAsync("content_block_stop", new JsonObject { ["type"] = "content_block_stop", ["index"] = index });
            index++;
        }

        foreach (var call in calls)
        {
            // The block opens with an empty input; the arguments follow as partial_json strings that only parse once joined.
            await exchange.WriteAsync("content_block_start", BlockStart(index, ToolUseBlock(call, [])));
            foreach (var piece in SplitInTwo(ArgumentsOrEmptyObject(call)))
            {
                await exchange.WriteContentAsync("content_block_delta", BlockDelta(index, new JsonObject { ["type"] = "input_json_delta", ["partial_json"] = piece }));
            }

            await exchange.WriteAsync("content_block_stop", new JsonObject { ["type"] = "content_block_stop", ["index"] = index });
            index++;
        }

        // message_delta's usage is cumulative: output_tokens is the total, not an increment.
        await exchange.WriteAsync("message_delta", new JsonObject
        {
            ["type"] = "message_delta",
            ["delta"] = new JsonObject { ["stop_reason"] = AnthropicStopReason(reply), ["stop_sequence"] = null },
            ["usage"] = new JsonObject { ["output_tokens"] = reply.OutputTokens },
        });
        await exchange.WriteLastAsync(() => exchange.WriteAsync("message_stop", new JsonObject { ["type"] = "message_stop" }));
    }

    private static JsonObject BlockStart(int index, JsonObject block) =>
        new() { ["type"] = "content_block_start", ["index"] = index, ["content_block"] = block };

    private static JsonObject BlockDelta(int index, JsonObject delta) =>
        new() { ["type"] = "content_block_delta", ["index"] = index, ["delta"] = delta };

    private static JsonObject ToolUseBlock(FakeToolCall call, JsonObject input) => new()
    {
        ["type"] = "tool_use",
        ["id"] = call.Id,
        ["name"] = call.Name,
        ["input"] = input,
        // The Anthropic .NET SDK models caller as required on tool_use blocks; "direct" is an ordinary call by the model.
        ["caller"] = new JsonObject { ["type"] = "direct" },
    };

    private static JsonObject AnthropicMessage(Exchange exchange)
    {
        var reply = exchange.Reply;
        var content = new JsonArray();
        if (!string.IsNullOrEmpty(reply.Text))
        {
            content.Add(new JsonObject { ["type"] = "text", ["text"] = reply.Text });
        }

        foreach (var call in reply.ToolCalls ?? [])
        {
            // Unlike OpenAI, the non-streamed input is a JSON object, not a string.
            var input = JsonNode.Parse(ArgumentsOrEmptyObject(call)) as JsonObject
                ?? throw new InvalidOperationException($"Tool call {call.Id}: Anthropic tool input must be a JSON object.");
            content.Add(ToolUseBlock(call, input));
        }

        return AnthropicMessageShell(exchange, content, AnthropicStopReason(reply), AnthropicUsage(reply, reply.OutputTokens));
    }

    private static JsonObject AnthropicMessageShell(Exchange exchange, JsonArray content, string? stopReason, JsonObject usage) => new()
    {
        ["id"] = $"msg_fake{exchange.Id:D6}",
        ["type"] = "message",
        ["role"] = "assistant",
        ["model"] = exchange.Request.Model ?? "fake-model",
        ["content"] = content,
        ["stop_reason"] = stopReason,
        ["stop_sequence"] = null,
        ["usage"] = usage,
    };

    private static JsonObject AnthropicUsage(FakeReply reply, int outputTokens) => new()
    {
        // Anthropic's input_tokens leaves out cache reads and writes, where OpenAI's prompt_tokens includes them.
        // FakeReply.InputTokens is the total (as M.E.AI's UsageDetails.InputTokenCount reports it for both), so the
        // cached part is taken out here.
        ["input_tokens"] = Math.Max(0, reply.InputTokens - reply.CachedInputTokens),
        ["cache_creation_input_tokens"] = 0,
        ["cache_read_input_tokens"] = reply.CachedInputTokens,
        ["output_tokens"] = outputTokens,
    };

    private static string AnthropicStopReason(FakeReply reply) => reply.ToolCalls is { Count: > 0 } ? "tool_use" : "end_turn";

    private static string ArgumentsOrEmptyObject(FakeToolCall call) =>
        string.IsNullOrWhiteSpace(call.ArgumentsJson) ? "{}" : call.ArgumentsJson;

    private static JsonObject AnthropicErrorBody(int status, string message)
    {
        var type = status switch
        {
            StatusCodes.Status401Unauthorized => "authentication_error",
            StatusCodes.Status403Forbidden => "permission_error",
            StatusCodes.Status404NotFound => "not_found_error",
            StatusCodes.Status413PayloadTooLarge => "request_too_large",
            StatusCodes.Status429TooManyRequests => "rate_limit_error",
            529 => "overloaded_error",
            >= 500 => "api_error",
            _ => "invalid_request_error",
        };
        return new JsonObject
        {
            ["type"] = "error",
            ["error"] = new JsonObject { ["type"] = type, ["message"] = message },
        };
    }

    // ---- Shared -----------------------------------------------------------------------------------------------

    /// <summary>Splits text into words, each with the whitespace after it, so the pieces join back into the text.</summary>
    private static List<string> SplitWords(string? text)
    {
        var pieces = new List<string>();
        if (string.IsNullOrEmpty(text))
        {
            return pieces;
        }

        var start = 0;
        var i = 0;
        while (i < text.Length && char.IsWhiteSpace(text[i]))
        {
            i++; // Leading whitespace rides with the first word.
        }

        while (i < text.Length)
        {
            while (i < text.Length && !char.IsWhiteSpace(text[i]))
            {
                i++;
            }

            while (i < text.Length && char.IsWhiteSpace(text[i]))
            {
                i++;
            }

            pieces.Add(text[start..i]);
            start = i;
        }

        if (start < text.Length)
        {
            pieces.Add(text[start..]);
        }

        return pieces;
    }

    /// <summary>Two pieces (one if the text is shorter than 2), so clients must join fragments.</summary>
    private static string[] SplitInTwo(string text) =>
        text.Length < 2 ? [text] : [text[..(text.Length / 2)], text[(text.Length / 2)..]];

    /// <summary>One request being answered: its context, reply and the state of its stream.</summary>
    private sealed class Exchange(
        FakeModelServer server, HttpContext context, FakeModelRequest request, FakeReply reply, int id, CancellationToken cancellation)
    {
        private int _contentChunks;
        private long? _pacingStart;
        private int _pacedWords;

        public HttpContext Context { get; } = context;
        public FakeModelRequest Request { get; } = request;
        public FakeReply Reply { get; } = reply;
        public int Id { get; } = id;
        public CancellationToken Cancellation { get; } = cancellation;
        public long Created { get; } = TimeProvider.System.GetUtcNow().ToUnixTimeSeconds();
        public bool AbortedByServer { get; private set; }

        public async Task StartEventStreamAsync()
        {
            var response = Context.Response;
            response.StatusCode = StatusCodes.Status200OK;
            response.ContentType = "text/event-stream";
            response.Headers.CacheControl = "no-cache";
            Context.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();
            // StartAsync only fixes the headers; the flush sends them.
            await response.StartAsync(Cancellation);
            await response.Body.FlushAsync(Cancellation);
        }

        /// <summary>
        /// Writes one server-sent event: OpenAI sends bare <c>data:</c> lines; Anthropic names each event, and its .NET
        /// SDK skips any event without an <c>event:</c> line, so the name is not optional there.
        /// </summary>
        public Task WriteAsync(string? eventName, JsonObject data) =>
            WriteRawAsync(eventName is null ? $"data: {data.ToJsonString()}\n\n" : $"event: {eventName}\ndata: {data.ToJsonString()}\n\n");

        /// <summary>Writes an event carrying part of the answer (text or tool arguments), then cuts the connection if told to.</summary>
        public async Task WriteContentAsync(string? eventName, JsonObject data)
        {
            await WriteAsync(eventName, data);
            _contentChunks++;
            CutIfDue();
        }

        /// <summary>Cuts the connection once <see cref="FakeReply.DisconnectAfterChunks"/> content chunks are out (at once for 0).</summary>
        public void CutIfDue()
        {
            if (_contentChunks >= Reply.DisconnectAfterChunks)
            {
                // An abort alone resets the connection, and a reset makes the client's kernel drop what its reader
                // has not read yet. Closing our sending side first queues a FIN behind the chunks already sent (the
                // inline scheduling set in StartAsync has them in the kernel by now), so the client reads every
                // chunk and then finds the stream ended early.
                Context.Features.Get<IConnectionSocketFeature>()?.Socket.Shutdown(SocketShutdown.Send);
                AbortByServer();
            }
        }

        public async Task WriteRawAsync(string text)
        {
            await Context.Response.WriteAsync(text, Cancellation);
            await Context.Response.Body.FlushAsync(Cancellation);
            Cancellation.ThrowIfCancellationRequested();
        }

        /// <summary>Waits until the next word is due; words are due at fixed times from the first, so delays do not add up.</summary>
        public Task PaceAsync()
        {
            if (Reply.TokensPerSecond is not (> 0 and var rate))
            {
                return Task.CompletedTask;
            }

            _pacingStart ??= TimeProvider.System.GetTimestamp();
            _pacedWords++;
            var due = TimeSpan.FromSeconds(_pacedWords / rate) - TimeProvider.System.GetElapsedTime(_pacingStart.Value);
            return due > TimeSpan.Zero ? Task.Delay(due, Cancellation) : Task.CompletedTask;
        }

        [DoesNotReturn]
        public void AbortByServer()
        {
            AbortedByServer = true;
            Context.Abort();
            throw new OperationCanceledException("The fake model server cut the connection as its reply asked.");
        }

        /// <summary>
        /// Makes the answer's last write, counting the answer as completed just before it, so a client that has read
        /// the whole answer always finds it counted; a failed last write takes the count back.
        /// </summary>
        public async Task WriteLastAsync(Func<Task> write)
        {
            Interlocked.Increment(ref server._completed);
            try
            {
                await write();
                // Kestrel drops writes once the client has gone, without throwing, so the token tells.
                Cancellation.ThrowIfCancellationRequested();
            }
            catch
            {
                Interlocked.Decrement(ref server._completed);
                throw;
            }
        }
    }
}

/// <summary>
/// A scripted answer of <see cref="FakeModelServer"/>: text and/or tool calls with their usage, or an error status,
/// with optional timing and a connection cut.
/// </summary>
public sealed record FakeReply
{
    private readonly int? _outputTokens;

    /// <summary>The answer's text; with <see cref="Status"/>, the error message.</summary>
    public string? Text { get; init; }

    public IReadOnlyList<FakeToolCall>? ToolCalls { get; init; }

    /// <summary>
    /// Prompt tokens in total, cached ones included, as M.E.AI's <c>UsageDetails.InputTokenCount</c> reports them for
    /// both APIs. OpenAI's <c>prompt_tokens</c> is this number; Anthropic's <c>input_tokens</c> is this number minus
    /// <see cref="CachedInputTokens"/>, because Anthropic counts cache reads apart.
    /// </summary>
    public int InputTokens { get; init; } = 10;

    /// <summary>Defaults to the number of whitespace-separated words in <see cref="Text"/>, at least 1.</summary>
    public int OutputTokens
    {
        get => _outputTokens ?? Math.Max(1, Text?.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries).Length ?? 0);
        init => _outputTokens = value;
    }

    /// <summary>How many of <see cref="InputTokens"/> were read from the prompt cache.</summary>
    public int CachedInputTokens { get; init; }

    /// <summary>An error status (such as 429 or 500) sent instead of a completion, in the API's error format.</summary>
    public int? Status { get; init; }

    /// <summary>Sent with <see cref="Status"/> as a <c>Retry-After</c> header in whole seconds.</summary>
    public TimeSpan? RetryAfter { get; init; }

    /// <summary>
    /// Delay before the first streamed chunk (the stream's headers go out at once), or before the whole non-streamed
    /// body or error.
    /// </summary>
    public TimeSpan TimeToFirstToken { get; init; }

    /// <summary>
    /// Streamed text always comes one word per chunk; when this is set, the chunks are 1/<c>TokensPerSecond</c> seconds
    /// apart (otherwise back to back).
    /// </summary>
    public double? TokensPerSecond { get; init; }

    /// <summary>
    /// Cut the connection (<c>HttpContext.Abort()</c>) after this many content chunks of a streamed answer (text words
    /// and tool-argument fragments; each tool call's arguments come in two; 0 cuts right after the opening chunk). The
    /// client reads every chunk sent, then its stream throws <c>HttpIOException</c> ("response ended prematurely").
    /// A non-streamed answer is cut before its body.
    /// </summary>
    public int? DisconnectAfterChunks { get; init; }
}

/// <summary>A tool call in a <see cref="FakeReply"/>; <paramref name="ArgumentsJson"/> is a JSON object as text.</summary>
public sealed record FakeToolCall(string Id, string Name, string ArgumentsJson);

/// <summary>A model request as <see cref="FakeModelServer"/> received it.</summary>
/// <param name="Api"><c>"openai"</c> or <c>"anthropic"</c>.</param>
/// <param name="Path">The request path, such as <c>/v1/chat/completions</c>.</param>
/// <param name="Headers">The request headers, case-insensitive.</param>
/// <param name="Body">The JSON body as sent.</param>
/// <param name="Stream">Whether the body asked for a streamed answer.</param>
public sealed record FakeModelRequest(string Api, string Path, IReadOnlyDictionary<string, string> Headers, JsonObject Body, bool Stream)
{
    /// <summary>The body's <c>model</c>.</summary>
    public string? Model => StringOf(Body["model"]);

    /// <summary>
    /// The system prompt: Anthropic's top-level <c>system</c> (a string or text blocks); OpenAI's <c>system</c> and
    /// <c>developer</c> messages, joined by new lines. Null when there is none.
    /// </summary>
    public string? SystemPrompt
    {
        get
        {
            if (Api == "anthropic")
            {
                return TextOf(Body["system"]);
            }

            var parts = Messages
                .Where(m => StringOf(m["role"]) is "system" or "developer")
                .Select(m => TextOf(m["content"]))
                .OfType<string>()
                .ToList();
            return parts.Count == 0 ? null : string.Join('\n', parts);
        }
    }

    /// <summary>
    /// The text of the last user message that has text. Anthropic sends tool results as user messages without text;
    /// they are skipped, so both APIs echo the same prompt after a tool call.
    /// </summary>
    public string? LastUserText =>
        Messages.Where(m => StringOf(m["role"]) == "user").Select(m => TextOf(m["content"])).LastOrDefault(t => t is not null);

    private IEnumerable<JsonObject> Messages => (Body["messages"] as JsonArray ?? []).OfType<JsonObject>();

    private static string? StringOf(JsonNode? node) =>
        node is JsonValue value && value.TryGetValue(out string? text) ? text : null;

    /// <summary>Content as a string, or the text blocks (parts) of a content array joined by new lines.</summary>
    private static string? TextOf(JsonNode? content)
    {
        if (content is JsonArray blocks)
        {
            var texts = blocks.OfType<JsonObject>().Where(b => StringOf(b["type"]) == "text").Select(b => StringOf(b["text"])).OfType<string>().ToList();
            return texts.Count == 0 ? null : string.Join('\n', texts);
        }

        return StringOf(content);
    }
}
