namespace Cadre.Cli.Output;

/// <summary><c>--output</c>: a table for people, JSON or YAML (the API's own documents) for scripts and files.</summary>
internal enum OutputFormat
{
    Table,
    Json,
    Yaml,
}
