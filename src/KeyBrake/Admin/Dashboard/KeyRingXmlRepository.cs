using System.Xml.Linq;
using KeyBrake.Storage;
using Microsoft.AspNetCore.DataProtection.Repositories;

namespace KeyBrake.Admin.Dashboard;

/// <summary>
/// The Data Protection key ring in the engine's shared store (<see cref="IKeyRingStore"/>), so a dashboard session or
/// antiforgery token issued by one replica is read by every other (SPEC §9). Like the file system's, the keys are not
/// encrypted at rest: the database's access control guards them.
/// </summary>
internal sealed class KeyRingXmlRepository(IKeyRingStore store) : IXmlRepository
{
    public IReadOnlyCollection<XElement> GetAllElements() => [.. store.ReadAll().Select(XElement.Parse)];

    public void StoreElement(XElement element, string friendlyName) =>
        store.Store(friendlyName, element.ToString(SaveOptions.DisableFormatting));
}
