using System.Text.Json.Nodes;
using Cadre.Cli.Api;
using Cadre.Cli.Output;

namespace Cadre.Cli.Runs;

/// <summary>
/// Waiting for a run and telling how it ended, for <c>cadre run --wait|--follow</c> and <c>cadre runs tail</c>:
/// 0 when it succeeded, 1 when it failed (the error told readably), 7 when the limit passed first, 130
/// when Ctrl+C detached (the run goes on either way).
/// </summary>
internal static class RunWatch
{
    private static readonly TimeSpan MaxPollInterval = TimeSpan.FromSeconds(2);

    public static string RunPath(CliSession session, string id)
    {
        ArgumentNullException.ThrowIfNull(session);
        return $"{session.WorkspacePath}/runs/{CadreApiClient.Segment(id)}";
    }

    public static async Task<JsonObject> GetAsync(CliSession session, string id, CancellationToken cancellationToken) =>
        await session.Api.GetAsync(RunPath(session, id), cancellationToken) as JsonObject
            ?? throw new CliException($"The server answered nothing for run {id}.", ExitCodes.Unavailable);

    /// <summary>Waits for <paramref name="run"/> to end (<paramref name="follow"/>: showing its events live), then reports it.</summary>
    /// <param name="limit">How long to wait before exiting 7; null waits for the end.</param>
    /// <param name="spent">Of <paramref name="limit"/>, what was spent already (a start that waited).</param>
    public static async Task<int> WatchAsync(CliSession session, JsonObject run, bool follow, TimeSpan? limit, TimeSpan spent, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(session);
        ArgumentNullException.ThrowIfNull(run);
        var id = run["id"]?.ToString() ?? throw new CliException("The server answered a run without an id.", ExitCodes.Unavailable);
        // Ctrl+C detaches: the run is the server's, and goes on. System.CommandLine's own SIGINT handler cancels the
        // command's token as well (and ends the invocation with 130 if the command takes over 2 s to stop): whichever
        // comes first, the interrupt below is what the detach answers to.
        using var interrupt = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        ConsoleCancelEventHandler detach = (_, e) =>
        {
            e.Cancel = true;
            interrupt.Cancel();
        };
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(interrupt.Token);
        if (limit is { } time)
        {
            deadline.CancelAfter(time > spent ? time - spent : TimeSpan.Zero);
        }

        // The transcript is what the command prints with -o table; with -o json|yaml it goes to standard error, and standard
        // output keeps only the run's document.
        var transcript = session.Printer.Format == OutputFormat.Table ? session.Printer.Output : session.Printer.Messages;
        var terminal = session.Printer.Format == OutputFormat.Table ? !Console.IsOutputRedirected : !Console.IsErrorRedirected;
        JsonObject final;
        Console.CancelKeyPress += detach;
        try
        {
            final = follow
                ? await FollowAsync(session, run, transcript, terminal, deadline.Token)
                : await PollAsync(session, run, deadline.Token);
        }
        catch (OperationCanceledException) when (interrupt.IsCancellationRequested)
        {
            await session.Printer.Messages.WriteLineAsync(
                $"Detached from run {RunText.Name(run)}; it keeps going. Follow it again with `cadre runs tail {id}`.");
            return 130;
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested)
        {
            final = await GetAsync(session, id, cancellationToken);
        }
        catch (CliException ex) when (follow && ex.ExitCode == ExitCodes.Unavailable)
        {
            throw new CliException($"{ex.Message} The run goes on regardless: `cadre runs tail {id}` follows it again.", ex.ExitCode);
        }
        finally
        {
            Console.CancelKeyPress -= detach;
        }

        return await ReportAsync(session, final, limit, follow ? transcript : null, cancellationToken);
    }

    /// <summary>Shows the run's events as they come (its history first), until its final status; answers the run as it ended.</summary>
    public static Task<JsonObject> FollowAsync(CliSession session, JsonObject run, TextWriter transcript, bool terminal, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(session);
        ArgumentNullException.ThrowIfNull(run);
        var id = run["id"]!.ToString();
        var time = TimeProvider.System;
        return RunDisplays.WithAsync(transcript, terminal, time, async display =>
        {
            display.Line(RunRenderer.Header(run), Tone.Dim);
            var renderer = new RunRenderer(display, run, token => GetAsync(session, id, token), time);
            var stream = new RunEventStream(session.Api, $"{RunPath(session, id)}/stream", notice => display.Line(notice, Tone.Warn), time);
            await foreach (var item in stream.ReadAsync(cancellationToken))
            {
                await renderer.HandleAsync(item, cancellationToken);
            }

            display.EndText();
            return await GetAsync(session, id, cancellationToken);
        });
    }

    /// <summary>Asks for the run until it has ended or halted (a halted run waits for a person, not for time).</summary>
    private static async Task<JsonObject> PollAsync(CliSession session, JsonObject run, CancellationToken cancellationToken)
    {
        var id = run["id"]!.ToString();
        var interval = TimeSpan.FromMilliseconds(250);
        while (run["status"]?.ToString() is { } status && !RunStatus.IsFinal(status) && status != "halted")
        {
            await Task.Delay(interval, cancellationToken);
            interval = TimeSpan.FromTicks(Math.Min(interval.Ticks * 2, MaxPollInterval.Ticks));
            run = await GetAsync(session, id, cancellationToken);
        }

        return run;
    }

    /// <summary>Prints how the run ended and answers the exit code.</summary>
    /// <param name="transcript">Where a followed run's summary goes (after its transcript); null: standard error.</param>
    public static async Task<int> ReportAsync(CliSession session, JsonObject run, TimeSpan? limit, TextWriter? transcript, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(session);
        ArgumentNullException.ThrowIfNull(run);
        var printer = session.Printer;
        var id = run["id"]?.ToString();
        var name = RunText.Name(run);
        var status = run["status"]?.ToString() ?? "unknown";
        var took = RunText.Took(run, TimeProvider.System) is { } duration ? $" in {RunText.Duration(duration)}" : "";
        if (printer.Format != OutputFormat.Table)
        {
            printer.Document(run);
        }

        if (status == "succeeded")
        {
            var usage = RunText.Usage(run["usage"]);
            var summary = $"✓ Run {name} succeeded{took}{(usage is null ? "" : $" · {usage}")}";
            if (printer.Format == OutputFormat.Table)
            {
                await (transcript ?? printer.Messages).WriteLineAsync(summary);
                RunText.WriteOutput(printer.Output, run["output"]);
            }
            else
            {
                await printer.Messages.WriteLineAsync(summary);
            }

            return ExitCodes.Success;
        }

        if (RunStatus.IsFailure(status))
        {
            var error = run["error"];
            var at = error?["stepId"]?.ToString() is { } stepId ? $" at step {stepId}" : "";
            await printer.Messages.WriteLineAsync($"error: Run {name} {status}{took}{at}: {RunText.Error(error)}");
            return ExitCodes.Failed;
        }

        var waited = limit is { } time ? $" after {RunText.Duration(time)}" : "";
        await printer.Messages.WriteLineAsync($"Run {name} ({id}) is still {status}{waited}; it keeps going. Follow it with `cadre runs tail {id}`.");
        if (status == "halted")
        {
            await printer.Messages.WriteLineAsync($"  It is halted: `cadre runs resume {id}` carries it on.");
        }

        if (status == "waiting")
        {
            var pending = CadreApiClient.WithQuery(CadreApiClient.WithQuery($"{session.WorkspacePath}/approvals", "run", id), "status", "pending");
            var (approvals, _) = await session.Api.ListAsync(pending, 10, cancellationToken);
            foreach (var approval in approvals)
            {
                await printer.Messages.WriteLineAsync(
                    $"  Step {approval["stepId"]} waits for approval {approval["id"]}: `cadre approvals approve {approval["id"]}` (or reject).");
            }
        }

        return ExitCodes.StillRunning;
    }
}
