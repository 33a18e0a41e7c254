import Fluent
import Foundation
import OmbudDomain
import SQLKit
import Vapor

/// Repeat contacts: before a call is registered, the open appeals on the same topic at the same place (the
/// `RepeatContactRule`: within the configured radius of the point, or at the same address) are shown, and the operator
/// adds the call to one of them instead of opening a duplicate — or registers it anyway.
extension IntakePages {
    /// The open appeals this form's call may repeat, nearest first — of all appeals, since a contact centre's caller
    /// repeats what another unit handles. One outside the operator's scope shows only its code, state, why it matched
    /// and when it came: nothing of its text, place or person.
    static func repeatCandidates(_ req: Request, form: Form) async throws -> [[String: Any]] {
        let rule = req.settings.channels.repeatContacts
        let point = form.point.nonBlank.flatMap(RepeatContactRule.point)
        let place = RepeatContactRule.Place(topics: Set((form.topics ?? []).compactMap(Form.latin)), address: form.address.nonBlank,
                                            lat: point?.lat, lon: point?.lon)
        guard rule.applies(to: place) else { return [] }
        // Candidates from two bounded lookups: the points in the radius's box (indexed by latitude), and the appeals the
        // full-text index finds by the address's words; the rule then weighs each.
        var ids: Set<UUID> = []
        if let point {
            let box = rule.box(around: point)
            // By the point index alone (a status filter here makes the planner walk every open appeal instead: p50 63 ms
            // against 35 at 100,000 appeals); open ones are kept below. 5,000 is more than any block of ~300 m holds.
            var near = Appeal.query(on: req.db).filter(\.$lat >= box.lat.lowerBound).filter(\.$lat <= box.lat.upperBound)
                .filter(\.$lon >= box.lon.lowerBound).filter(\.$lon <= box.lon.upperBound)
            ids.formUnion(try await near.field(\.$id).limit(5_000).all().compactMap(\.id))
        }
        if let address = place.address, let words = RepeatContactRule.addressWords(address) {
            let page = try await AppealList.page(AppealList.Filters(q: words.sorted().joined(separator: " "), limit: 200), scope: nil, personal: true, hidden: "",
                                                 settings: req.settings, db: req.db, now: req.now)
            ids.formUnion(page.items.map(\.id))
        }
        guard !ids.isEmpty else { return [] }
        let topics = Array(place.topics)
        let open = try await Appeal.query(on: req.db).filter(\.$id ~~ Array(ids)).filter(\.$status ~~ AppealTransitions.workflow.openStates)
            .filter(.sql(SQLQueryString("appeals.id IN (SELECT appeal_id FROM questions WHERE topic_code IN (\(binds: topics)))"))).all()
        func metres(_ m: RepeatContactRule.Match) -> Double { if case let .near(d) = m { return d } else { return 0 } }
        // Every candidate shares a topic with the call already.
        let found = open.compactMap { a in
            rule.match(place, RepeatContactRule.Place(topics: place.topics, address: a.addressText, lat: a.lat, lon: a.lon)).map { (a, $0) }
        }.sorted { metres($0.1) < metres($1.1) }.prefix(10)
        let scope = try await req.accessScope()
        var rows: [[String: Any]] = []
        for (appeal, match) in found {
            let why: String
            switch match {
            case let .near(d): why = req.text("intake", "repeatNear", ["m": Int(d.rounded())])
            case .sameAddress: why = req.text("intake", "repeatSameAddress")
            }
            let visible = try await req.maySee(appeal, in: scope)
            let row: [String: Any?] = ["code": appeal.trackingCode, "status": req.text("states", appeal.status), "why": why,
                                       "address": visible ? appeal.addressText : nil, "received": req.format.dateTime(appeal.receivedAt),
                                       "text": visible ? String(appeal.text.prefix(200)) : nil, "visible": visible]
            rows.append(row.present)
        }
        return rows
    }

    /// The call added to an open appeal instead of a new one: the caller's words in its correspondence, the files on
    /// it, a line in its history. Once per form, like registering.
    func linkCall(_ req: Request, form: Form, code raw: String) async throws -> Response {
        guard try req.actor.can(.appealsEdit) else { throw AppError.forbidden(reason: "adding to an appeal needs the right to edit appeals") }
        guard let code = TrackingCode(TextNormalizer.latinDigits(raw)),
              let appeal = try await Appeal.query(on: req.db).filter(\.$trackingCode == code.description).first(),
              AppealTransitions.workflow.isOpen(appeal.status) else {
            throw AppError.notFound(entity: "appeal", id: raw)
        }
        // Another unit's appeal only as the repeat this call was found to be.
        let visible = try await req.maySee(appeal, in: try await req.accessScope())
        let candidates = visible ? [] : try await Self.repeatCandidates(req, form: form)
        guard visible || candidates.contains(where: { $0["code"] as? String == appeal.trackingCode }) else {
            throw AppError.notFound(entity: "appeal", id: raw)
        }
        guard let text = form.text.nonBlank else {
            return try await Self.page(req, form: form, errors: ["text": req.message(.missing(field: "text"))], status: .unprocessableEntity)
        }
        let token = form._once.flatMap(UUID.init(uuidString:)) ?? UUID()
        let files = StagedFiles.files(token, settings: req.settings)
        let actor = try req.actor
        let now = req.now
        guard case .claimed = try await FormOnce.claim(token, userID: actor.userID, store: req.store, now: now) else {
            return req.redirect(to: "/appeals/\(appeal.trackingCode)", redirectType: .normal)
        }
        let caller = [form.surname, form.name, form.patronymic, Form.latin(form.phone)].compactMap { $0.nonBlank }.joined(separator: " ")
        let channel = AppealChannel(rawValue: form.channel ?? "") ?? .phone
        let appealID = try appeal.requireID()
        let row = CorrespondenceRecord(appealID: appealID, direction: "in", channel: channel.rawValue, text: String(text.prefix(Validate.maxTextLength)), at: now)
        row.sender = caller.nonEmpty
        try await Correspondence.add(row, notes: [HistoryNote(action: "repeat-contact", to: channel.rawValue, comment: String(text.prefix(200)))],
                                     actor: actor, now: now, store: req.store)
        for file in files {
            _ = try await AttachmentStore.save(appealID: appealID, fileName: file.filename, data: file.data, actor: actor, settings: req.settings,
                                               store: req.store, now: now)
        }
        try await FormOnce.complete(token, appealID: appealID, store: req.store)
        StagedFiles.discard(token, settings: req.settings)
        guard visible else { return req.redirect(to: "/appeals/new?linked=\(appeal.trackingCode)", redirectType: .normal) }
        return req.redirect(to: "/appeals/\(appeal.trackingCode)?linked=1#correspondence", redirectType: .normal)
    }
}
