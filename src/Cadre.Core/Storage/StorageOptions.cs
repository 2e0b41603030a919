using System.ComponentModel.DataAnnotations;

namespace Cadre.Storage;

/// <summary>Where Cadre keeps its state. Bound from the <c>Cadre</c> section (env <c>CADRE_DATABASE</c>, <c>CADRE_DATA_DIR</c>).</summary>
public sealed class StorageOptions
{
    public const string SectionName = "Cadre";

    /// <summary>
    /// The database. <c>sqlite</c> (the default) keeps an embedded file <c>cadre.db</c> in
    /// <see cref="DataDir"/>; <c>sqlite:&lt;path&gt;</c> names the file; a <c>postgres://</c> or
    /// <c>postgresql://</c> URL, or an Npgsql connection string (<c>Host=…;Database=…</c>), selects PostgreSQL.
    /// </summary>
    [Required(AllowEmptyStrings = false)]
    public string Database { get; set; } = "sqlite";

    /// <summary>Directory for the SQLite file and the first-run admin key file. Default <c>./data</c>, created when missing.</summary>
    [Required(AllowEmptyStrings = false)]
    public string DataDir { get; set; } = "./data";
}
