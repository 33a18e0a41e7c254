import Fluent
import Foundation

/// A building of the local address register (`AddressKey`): where a typed address is, and in which district. Built
/// from the appeals' own addresses (`source` "appeals") and imported lists (`ombud addresses import`, "import"); an
/// imported row is never replaced by one learned from appeals.
final class AddressRecord: Model, @unchecked Sendable {
    static let schema = "addresses"
    @ID(custom: "key", generatedBy: .user) var id: String?
    @Field(key: "street_key") var streetKey: String
    @Field(key: "text") var text: String
    @OptionalField(key: "district") var district: String?
    @OptionalField(key: "lat") var lat: Double?
    @OptionalField(key: "lon") var lon: Double?
    @Field(key: "source") var source: String
    /// How many appeals the row was learned from (0 for an imported one).
    @Field(key: "appeals") var appeals: Int
    @Field(key: "updated_at") var updatedAt: Date

    init() {}
}
