namespace Cadre.Cli;

/// <summary>What <c>cadre</c> exits with; docs/cli.md lists them, so scripts can tell failures apart.</summary>
internal static class ExitCodes
{
    public const int Success = 0;

    /// <summary>The command ran and the outcome is a failure: a run failed, an apply had errors, a 4xx the others do not name.</summary>
    public const int Failed = 1;

    /// <summary>The command line itself is wrong (an unknown option, a missing argument, an unreadable file).</summary>
    public const int Usage = 2;

    /// <summary>No credentials, or the server refused them or the action (401, 403).</summary>
    public const int NotAllowed = 3;

    /// <summary>What was named does not exist (404).</summary>
    public const int NotFound = 4;

    /// <summary>Someone changed it first, or it exists already (409, 412).</summary>
    public const int Conflict = 5;

    /// <summary>The server could not be reached, answered 5xx, or timed out.</summary>
    public const int Unavailable = 6;

    /// <summary>The run was still going when <c>--wait</c>'s limit passed.</summary>
    public const int StillRunning = 7;
}
