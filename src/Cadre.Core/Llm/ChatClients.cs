using System.ClientModel;
using System.ClientModel.Primitives;
using System.Collections.Concurrent;
using System.Net;
using Anthropic;
using Cadre.Net;
using Cadre.Observability;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.Options;
using OpenAI;
using Polly;
using Polly.Retry;
using Polly.Timeout;

namespace Cadre.Llm;

/// <summary>
/// Turns a provider and a model into an <see cref="IChatClient"/>: the OpenAI SDK for OpenAI-compatible
/// servers, Anthropic's SDK for Anthropic, the built-in <see cref="MockChatClient"/> for <c>mock</c>.
/// Both SDKs' own retries are off: one Polly pipeline per provider retries 429, 5xx and dropped
/// connections, honouring Retry-After, and bounds each attempt's wait for the answer to start.
/// Workspace providers connect through the outbound guard; the operator's may reach private addresses.
/// Every client is wrapped in Microsoft.Extensions.AI's OpenTelemetry client: a span per call with the
/// GenAI conventions' attributes (model, tokens), without the messages unless the operator asks.
/// </summary>
internal sealed class ChatClients(OutboundHttp outbound, TimeProvider time, IOptions<TelemetryOptions> telemetry) : IDisposable
{
    // SDK-side limits stay out of the way: the Polly timeout bounds each attempt, the step's timeout the whole.
    private static readonly TimeSpan SdkTimeout = TimeSpan.FromHours(2);

    private readonly ConcurrentDictionary<(bool Trusted, TimeSpan Timeout, int MaxRetries), HttpClient> _clients = new();
    private readonly Lazy<HttpMessageHandler> _guarded = new(() => ForModels(outbound.CreateHandler(guarded: true)));
    private readonly Lazy<HttpMessageHandler> _trusted = new(() => ForModels(outbound.CreateHandler(guarded: false)));

    // A cancelled stream (halt, timeout) must close the connection at once: by default the handler
    // first reads on for up to 2 s to reuse it, and the provider goes on generating, and billing.
    private static SocketsHttpHandler ForModels(SocketsHttpHandler handler)
    {
        handler.MaxResponseDrainSize = 0;
        return handler;
    }

    // The SDK clients (and their pipelines) are thread-safe and cost about 0.8 ms to build, so one is
    // kept per provider settings (and, for OpenAI's, per model), for a while after its last use:
    // a rotated key or a changed address is simply another entry.
    private readonly MemoryCache _sdkClients = new(new MemoryCacheOptions { SizeLimit = 1024 });

    /// <summary>A client for one call; dispose it after (the SDK client underneath is kept for the next call).</summary>
    public IChatClient Create(ResolvedProvider provider, string model, int? maxTokens)
    {
        ArgumentNullException.ThrowIfNull(provider);
        // Its spans only: the wrapper makes a meter per instance, so Cadre counts tokens itself (CadreMetrics).
        return new OpenTelemetryChatClient(Provider(provider, model, maxTokens), sourceName: CadreTelemetry.ModelCallsName)
        {
            // Set either way, so OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT cannot turn it on behind Cadre's setting.
            EnableSensitiveData = telemetry.Value.RecordModelContent,
        };
    }

    private IChatClient Provider(ResolvedProvider provider, string model, int? maxTokens)
    {
        return provider.Kind switch
        {
            "mock" => new MockChatClient(model, time),
            "anthropic" => Cached(provider, model: null, () => new AnthropicClient(new Anthropic.Core.ClientOptions
            {
                BaseUrl = provider.BaseUrl?.ToString().TrimEnd('/') ?? "https://api.anthropic.com",
                ApiKey = provider.ApiKey ?? "",
                HttpClient = HttpFor(provider),
                MaxRetries = 0,
                Timeout = SdkTimeout,
            })).AsIChatClient(model, maxTokens ?? DefaultAnthropicMaxTokens),
            _ => Cached(provider, model, () => new OpenAI.Chat.ChatClient(model, new ApiKeyCredential(provider.ApiKey ?? "none"), new OpenAIClientOptions
            {
                Endpoint = provider.BaseUrl,
                Transport = new HttpClientPipelineTransport(HttpFor(provider)),
                RetryPolicy = new ClientRetryPolicy(0),
                NetworkTimeout = SdkTimeout,
            })).AsIChatClient(),
        };
    }

    private T Cached<T>(ResolvedProvider provider, string? model, Func<T> create)
        where T : class =>
        _sdkClients.GetOrCreate((provider.Kind, provider.BaseUrl, provider.ApiKey, provider.Timeout, provider.MaxRetries, provider.Trusted, model), entry =>
        {
            entry.Size = 1;
            entry.SlidingExpiration = TimeSpan.FromMinutes(10);
            return create();
        })!;

    /// <summary>Anthropic requires a ceiling on every answer; this is it when neither persona nor step sets one.</summary>
    public const int DefaultAnthropicMaxTokens = 4096;

    public void Dispose()
    {
        _sdkClients.Dispose();
        foreach (var client in _clients.Values)
        {
            client.Dispose();
        }

        if (_guarded.IsValueCreated)
        {
            _guarded.Value.Dispose();
        }

        if (_trusted.IsValueCreated)
        {
            _trusted.Value.Dispose();
        }
    }

    private HttpClient HttpFor(ResolvedProvider provider) =>
        _clients.GetOrAdd((provider.Trusted, provider.Timeout, provider.MaxRetries), key =>
            new HttpClient(new ResilienceHandler(Pipeline(key.Timeout, key.MaxRetries, time), key.Trusted ? _trusted.Value : _guarded.Value), disposeHandler: false)
            {
                Timeout = Timeout.InfiniteTimeSpan,
            });

    /// <summary>Retries outside, the per-attempt timeout inside: each attempt gets the provider's full timeout.</summary>
    internal static ResiliencePipeline<HttpResponseMessage> Pipeline(TimeSpan attemptTimeout, int maxRetries, TimeProvider time)
    {
        var builder = new ResiliencePipelineBuilder<HttpResponseMessage> { TimeProvider = time };
        if (maxRetries > 0)
        {
            builder.AddRetry(new RetryStrategyOptions<HttpResponseMessage>
            {
                MaxRetryAttempts = maxRetries,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = TimeSpan.FromSeconds(1),
                MaxDelay = MaxRetryDelay,
                ShouldHandle = new PredicateBuilder<HttpResponseMessage>()
                    .Handle<HttpRequestException>(ex => ex is not { InnerException: OutboundRefusedException })
                    .Handle<TimeoutRejectedException>()
                    .HandleResult(r => IsTransient(r.StatusCode)),
                DelayGenerator = args => ValueTask.FromResult(RetryAfter(args.Outcome.Result, time)),
                OnRetry = args =>
                {
                    // The failed answer is not handed on: release its connection.
                    args.Outcome.Result?.Dispose();
                    return ValueTask.CompletedTask;
                },
            });
        }

        return builder.AddTimeout(attemptTimeout).Build();
    }

    /// <summary>The longest wait between attempts, whatever Retry-After asks: a step has its own timeout to keep.</summary>
    internal static readonly TimeSpan MaxRetryDelay = TimeSpan.FromSeconds(60);

    /// <summary>Rate limits, server errors and Anthropic's 529 (overloaded).</summary>
    internal static bool IsTransient(HttpStatusCode status) =>
        status is HttpStatusCode.TooManyRequests or HttpStatusCode.RequestTimeout or >= HttpStatusCode.InternalServerError and not HttpStatusCode.NotImplemented;

    /// <summary>The provider's Retry-After (seconds or a date), capped; null lets the backoff decide.</summary>
    internal static TimeSpan? RetryAfter(HttpResponseMessage? response, TimeProvider time)
    {
        var header = response?.Headers.RetryAfter;
        var delay = header?.Delta ?? (header?.Date is { } date ? date - time.GetUtcNow() : null);
        return delay is { } d ? TimeSpan.FromTicks(Math.Clamp(d.Ticks, 0, MaxRetryDelay.Ticks)) : null;
    }

    /// <summary>
    /// Runs each request through the pipeline. A request is sent again as it is: both SDKs buffer
    /// their bodies. Never disposed (its HttpClient does not own it), so the shared inner handler lives
    /// until <see cref="ChatClients"/> is disposed.
    /// </summary>
    private sealed class ResilienceHandler(ResiliencePipeline<HttpResponseMessage> pipeline, HttpMessageHandler inner) : DelegatingHandler(inner)
    {
        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken) =>
            await pipeline.ExecuteAsync(async token => await base.SendAsync(request, token), cancellationToken);
    }
}
