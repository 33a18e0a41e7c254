import Foundation

// The appeal views write their own JSON (see `JSONWritable`); keys in declaration order, as the synthesized
// `Encodable` writes them. `JSONWriterTests` checks each against Foundation's encoder.

extension AppealView: JSONWritable {
    func write(to json: inout JSONWriter) {
        json.object { o in
            o.field("id", id)
            o.field("trackingCode", trackingCode)
            o.field("status", status)
            o.field("channel", channel)
            o.field("replyChannel", replyChannel)
            o.field("kind", kind)
            o.field("form", form)
            o.field("urgency", urgency)
            o.field("receivedAt", receivedAt)
            o.field("registeredAt", registeredAt)
            o.field("closedAt", closedAt)
            o.field("applicant", applicant)
            o.field("coApplicants", coApplicants)
            o.field("isCollective", isCollective)
            o.field("isDeputyInquiry", isDeputyInquiry)
            o.field("text", text)
            o.field("address", address)
            o.field("officeCode", officeCode)
            o.field("complainedUnitCode", complainedUnitCode)
            o.field("redirectedToUnitCode", redirectedToUnitCode)
            o.field("repeatOf", repeatOf)
            o.field("duplicateOf", duplicateOf)
            o.field("article11Ground", article11Ground)
            o.field("deadlines", deadlines)
            o.field("overdue", overdue)
            o.field("questions", questions)
            o.field("allowedTransitions", allowedTransitions)
            o.field("tasks", tasks)
            o.field("promises", promises)
        }
    }
}

extension ApplicantSummary: JSONWritable {
    func write(to json: inout JSONWriter) {
        json.object { o in
            o.field("id", id)
            o.field("kind", kind)
            o.field("fullName", fullName)
            o.field("surname", surname)
            o.field("name", name)
            o.field("patronymic", patronymic)
            o.field("organisationName", organisationName)
            o.field("phones", phones)
            o.field("emails", emails)
            o.field("postalAddress", postalAddress)
            o.field("publicityConsent", publicityConsent)
            o.field("masked", masked)
        }
    }
}

extension QuestionView: JSONWritable {
    func write(to json: inout JSONWriter) {
        json.object { o in
            o.field("id", id)
            o.field("position", position)
            o.field("topicCode", topicCode)
            o.field("text", text)
            o.field("executorUnitCode", executorUnitCode)
            o.field("executorUserId", executorUserId)
            o.field("status", status)
            o.field("result", result)
            o.field("answerText", answerText)
        }
    }
}

extension AddressView: JSONWritable {
    func write(to json: inout JSONWriter) {
        json.object { o in
            o.field("text", text)
            o.field("lat", lat)
            o.field("lon", lon)
            o.field("district", district)
        }
    }
}

extension DeadlinesView: JSONWritable {
    func write(to json: inout JSONWriter) {
        json.object { o in
            o.field("registrationDue", registrationDue)
            o.field("redirectDue", redirectDue)
            o.field("answerDue", answerDue)
            o.field("controlDate", controlDate)
            o.field("extensionDays", extensionDays)
            o.field("extensionReason", extensionReason)
            o.field("daysLeft", daysLeft)
        }
    }
}

extension AppealListItem: JSONWritable {
    func write(to json: inout JSONWriter) {
        json.object { o in
            o.field("id", id)
            o.field("trackingCode", trackingCode)
            o.field("status", status)
            o.field("channel", channel)
            o.field("kind", kind)
            o.field("receivedAt", receivedAt)
            o.field("controlDate", controlDate)
            o.field("overdue", overdue)
            o.field("district", district)
            o.field("excerpt", excerpt)
        }
    }
}

extension AppealPage: JSONWritable {
    func write(to json: inout JSONWriter) {
        json.object { o in
            o.field("items", items)
            o.field("nextCursor", nextCursor)
        }
    }
}
