using System.CommandLine;

namespace Cadre.Cli.Commands;

/// <summary>How every command runs: a session from the global options, and a failure printed as one clear message with its exit code.</summary>
internal static class CommandActions
{
    public static void Runs(this Command command, Func<CliSession, ParseResult, CancellationToken, Task<int>> action)
    {
        ArgumentNullException.ThrowIfNull(command);
        ArgumentNullException.ThrowIfNull(action);
        command.SetAction(async (parse, cancellationToken) =>
        {
            try
            {
                using var session = CliSession.From(parse, Console.Out, Console.Error);
                return await action(session, parse, cancellationToken);
            }
            catch (CliException ex)
            {
                await Console.Error.WriteLineAsync($"error: {ex.Message}");
                return ex.ExitCode;
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                // Cancelled from outside (run and tail turn Ctrl+C into this; elsewhere Ctrl+C ends the process,
                // which a shell also reports as 130): the exit code of an interrupt.
                return 130;
            }
        });
    }
}
