namespace Cadre.Cli;

/// <summary>A failure to report to the user in one message, with the exit code it means.</summary>
internal class CliException(string message, int exitCode = ExitCodes.Failed) : Exception(message)
{
    public int ExitCode { get; } = exitCode;
}
