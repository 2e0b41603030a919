using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;
using Cadre.Cli.Api;
using Cadre.Cli.Output;
using Cadre.Cli.Runs;
using Cadre.Common;

namespace Cadre.Cli.Commands;

/// <summary><c>cadre run</c> starts a run (and waits for it or follows it live); <c>cadre runs tail</c> follows one that exists.</summary>
internal static class RunCommands
{
    /// <summary>What <c>--wait</c> waits without <c>--timeout</c>.</summary>
    public static readonly TimeSpan DefaultWait = TimeSpan.FromMinutes(10);

    /// <summary>The longest the API's <c>?wait=</c> holds a start; longer waits go on asking.</summary>
    private static readonly TimeSpan MaxServerWait = TimeSpan.FromMinutes(5);

    private static readonly Dictionary<string, string> ContentTypes = new(StringComparer.OrdinalIgnoreCase)
    {
        [".png"] = "image/png",
        [".jpg"] = "image/jpeg",
        [".jpeg"] = "image/jpeg",
        [".gif"] = "image/gif",
        [".webp"] = "image/webp",
        [".pdf"] = "application/pdf",
        [".txt"] = "text/plain",
        [".md"] = "text/markdown",
        [".csv"] = "text/csv",
        [".json"] = "application/json",
    };

    public static IEnumerable<Command> Create() => [Run()];

    private static Option<string?> TimeoutOption() => new("--timeout")
    {
        Description = "How long to wait before exiting 7 (the run goes on): 30s, 10m, 2h. Default: 10m with --wait, no limit with --follow",
    };

    private static Command Run()
    {
        var workflow = new Argument<string>("workflow") { Description = "The workflow's name or ID" };
        var input = new Option<string?>("--input", "-i") { Description = "The run's input (context.body): a JSON or YAML file, or - for standard input" };
        var prompt = new Option<string?>("--prompt", "-p") { Description = "An instruction for the run's agent steps (context.prompt)" };
        var config = new Option<string[]>("--config", "-c")
        {
            Description = "Per-run settings (context.config): name=value (the value read as JSON if it is JSON, else as text), or a JSON/YAML file of them; repeatable",
            AllowMultipleArgumentsPerToken = false,
        };
        var attach = new Option<string[]>("--attach", "-a")
        {
            Description = "Upload a file and attach it to the run (context.attachments); repeatable",
            AllowMultipleArgumentsPerToken = false,
        };
        var idempotencyKey = new Option<string?>("--idempotency-key")
        {
            Description = "Makes the start safe to retry: the same key answers the run it made instead of starting another",
        };
        var wait = new Option<bool>("--wait") { Description = "Wait for the run to end, print its output; exit 1 if it failed, 7 if still going at --timeout" };
        var follow = new Option<bool>("--follow") { Description = "Show the run live (steps, streamed tokens, approvals, logs) until it ends; exit codes as --wait" };
        var timeout = TimeoutOption();
        var command = new Command("run", "Start a run of a workflow; --wait for its end or --follow it live")
        {
            workflow, input, prompt, config, attach, idempotencyKey, wait, follow, timeout,
        };
        command.Runs(async (session, parse, cancellationToken) =>
        {
            var following = parse.GetValue(follow);
            var waiting = parse.GetValue(wait) && !following;
            var limit = Duration(parse.GetValue(timeout), "--timeout") ?? (waiting ? DefaultWait : null);
            var body = new JsonObject();
            if (parse.GetValue(input) is { } inputPath)
            {
                body["input"] = DocumentFiles.Read(inputPath);
            }

            if (parse.GetValue(prompt) is { } promptText)
            {
                body["prompt"] = promptText;
            }

            if (Config(parse.GetValue(config) ?? []) is { } settings)
            {
                body["config"] = settings;
            }

            var files = parse.GetValue(attach) ?? [];
            if (files.Length > 0)
            {
                body["attachments"] = new JsonArray([.. await Task.WhenAll(files.Select(file => UploadAsync(session, file, cancellationToken)))]);
            }

            var path = $"{session.WorkspacePath}/workflows/{CadreApiClient.Segment(parse.GetValue(workflow)!)}/runs";
            TimeSpan? serverWait = waiting && limit is { } l ? (l < MaxServerWait ? l : MaxServerWait) : null;
            if (serverWait is { } held)
            {
                path = CadreApiClient.WithQuery(path, "wait", $"{Math.Max(1, (long)held.TotalMilliseconds)}ms");
            }

            var headers = parse.GetValue(idempotencyKey) is { } key ? new Dictionary<string, string> { ["Idempotency-Key"] = key } : null;
            var started = Stopwatch.GetTimestamp();
            var run = await session.Api.SendAsync(HttpMethod.Post, path, body, cancellationToken, headers,
                serverWait is { } longest ? longest + session.Api.RequestTimeout : null) as JsonObject
                ?? throw new CliException("The server answered the start with nothing.", ExitCodes.Unavailable);

            if (!waiting && !following)
            {
                if (session.Printer.Format == OutputFormat.Table)
                {
                    session.Printer.List([run], [Column.Of("ID", "id"), Column.Of("RUN", "displayId"), Column.Of("NUMBER", "number"), Column.Of("STATUS", "status")]);
                }
                else
                {
                    session.Printer.Document(run);
                }

                await session.Printer.Messages.WriteLineAsync($"Started run {RunText.Name(run)}; follow it with `cadre runs tail {run["id"]}`.");
                return ExitCodes.Success;
            }

            return await RunWatch.WatchAsync(session, run, following, limit, Stopwatch.GetElapsedTime(started), cancellationToken);
        });
        return command;
    }

    /// <summary><c>cadre runs tail RUN</c>: the transcript of a run so far, then live until it ends; a finished run's history, then its outcome.</summary>
    public static Command Tail()
    {
        var runId = new Argument<string>("run") { Description = "The run's ID" };
        var timeout = TimeoutOption();
        var command = new Command("tail", "Follow a run: its history, then its events live until it ends (exit 0 succeeded, 1 failed, 7 at --timeout)")
        {
            runId, timeout,
        };
        command.Runs(async (session, parse, cancellationToken) =>
        {
            var limit = Duration(parse.GetValue(timeout), "--timeout");
            var run = await RunWatch.GetAsync(session, parse.GetValue(runId)!, cancellationToken);
            return await RunWatch.WatchAsync(session, run, follow: true, limit, TimeSpan.Zero, cancellationToken);
        });
        return command;
    }

    public static TimeSpan? Duration(string? text, string option) => text is null
        ? null
        : Durations.TryParse(text, out var duration) && duration > TimeSpan.Zero
            ? duration
            : throw new CliException($"{option} takes {Durations.Rule}, not '{text}'.", ExitCodes.Usage);

    /// <summary><c>--config</c>: <c>name=value</c> items and files of settings, merged in order (later ones win).</summary>
    private static JsonObject? Config(string[] items)
    {
        if (items.Length == 0)
        {
            return null;
        }

        var config = new JsonObject();
        foreach (var item in items)
        {
            if (item.Contains('=', StringComparison.Ordinal))
            {
                var (name, text) = ResourceCommands.NameValue(item, "--config");
                config[name] = Value(text);
                continue;
            }

            if (DocumentFiles.Read(item) is not JsonObject settings)
            {
                throw new CliException($"--config {item}: the file must hold an object of settings.", ExitCodes.Usage);
            }

            foreach (var (name, value) in settings)
            {
                config[name] = value?.DeepClone();
            }
        }

        return config;
    }

    /// <summary>A <c>--config</c> value: JSON when it reads as JSON (<c>3</c>, <c>true</c>, <c>[1,2]</c>), else the text itself.</summary>
    private static JsonNode? Value(string text)
    {
        try
        {
            return JsonNode.Parse(text);
        }
        catch (JsonException)
        {
            return JsonValue.Create(text);
        }
    }

    /// <summary>Uploads a file the two-step way (docs/files.md) and answers the attachment that names it.</summary>
    private static async Task<JsonNode> UploadAsync(CliSession session, string file, CancellationToken cancellationToken)
    {
        byte[] bytes;
        try
        {
            bytes = await File.ReadAllBytesAsync(file, cancellationToken);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new CliException($"Cannot read {file}: {ex.Message}", ExitCodes.Usage);
        }

        var contentType = ContentTypes.GetValueOrDefault(Path.GetExtension(file), "application/octet-stream");
        var declared = await session.Api.SendAsync(HttpMethod.Post, $"{session.WorkspacePath}/files/upload-url", new JsonObject
        {
            ["name"] = Path.GetFileName(file),
            ["contentType"] = contentType,
            ["size"] = bytes.LongLength,
            ["sha256"] = Convert.ToHexStringLower(SHA256.HashData(bytes)),
        }, cancellationToken) as JsonObject ?? throw new CliException($"The server answered nothing for {file}'s upload.", ExitCodes.Unavailable);
        var storageId = declared["storageId"]?.ToString() ?? throw new CliException($"The server gave no storage ID for {file}.", ExitCodes.Unavailable);
        var uploadUrl = new Uri(session.Api.Server, declared["uploadUrl"]?.ToString() ?? throw new CliException($"The server gave no upload URL for {file}.", ExitCodes.Unavailable));

        // The signed URL is its own credential: the bytes go without the API key.
        using var http = new HttpClient();
        using var request = new HttpRequestMessage(new HttpMethod(declared["method"]?.ToString() ?? "PUT"), uploadUrl) { Content = new ByteArrayContent(bytes) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue(contentType);
        try
        {
            using var response = await http.SendAsync(request, cancellationToken);
            if (!response.IsSuccessStatusCode)
            {
                throw CadreApiException.From(response.StatusCode, response.ReasonPhrase, await response.Content.ReadAsStringAsync(cancellationToken));
            }
        }
        catch (HttpRequestException ex) when (ex.StatusCode is null)
        {
            throw new CliException($"Could not upload {file} to {uploadUrl.GetLeftPart(UriPartial.Authority)}: {ex.Message}", ExitCodes.Unavailable);
        }

        await session.Printer.Messages.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"Uploaded {Path.GetFileName(file)} ({bytes.LongLength} bytes) as {storageId}."));
        return new JsonObject { ["storageId"] = storageId };
    }
}
