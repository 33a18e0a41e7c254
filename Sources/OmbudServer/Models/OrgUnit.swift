import Fluent
import Foundation

final class OrgUnit: Model, @unchecked Sendable {
    static let schema = "org_units"
    @ID(key: .id) var id: UUID?
    @Field(key: "code") var code: String
    @Field(key: "name") var name: String
    @Field(key: "kind") var kind: String
    @OptionalParent(key: "parent_id") var parent: OrgUnit?
    @OptionalField(key: "head_official_id") var headOfficialID: UUID?
    @Field(key: "created_at") var createdAt: Date

    init() {}
    init(id: UUID? = nil, code: String, name: String, kind: String, parentID: UUID?, createdAt: Date) {
        self.id = id
        self.code = code
        self.name = name
        self.kind = kind
        self.$parent.id = parentID
        self.createdAt = createdAt
    }
}

final class Official: Model, @unchecked Sendable {
    static let schema = "officials"
    @ID(key: .id) var id: UUID?
    @Parent(key: "unit_id") var unit: OrgUnit
    @Field(key: "full_name") var fullName: String
    @OptionalField(key: "position") var position: String?
    @OptionalField(key: "email") var email: String?
    @OptionalField(key: "phone") var phone: String?
    @OptionalField(key: "user_id") var userID: UUID?

    init() {}
}
